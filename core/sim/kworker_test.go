package sim

import (
	"strings"
	"testing"
)

// TestKworkerInput: only an existing kthread can be the kworker, and 0
// turns it off.
func TestKworkerInput(t *testing.T) {
	w := newWorld(t, "6.16", false)
	for _, c := range []struct {
		pid  int
		want string
	}{
		{999, "no task 999"},
		{102, "sh:102 is a user task; a kworker is a kthread"},
		{110, ""},
		{0, ""},
	} {
		err := w.s.Step(Kworker{PID: c.pid})
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Kworker{%d}: %v, want %q", c.pid, err, c.want)
		}
	}
	if w.s.worker != 0 {
		t.Errorf("Kworker{0} left worker %d", w.s.worker)
	}
}
