package sim

import (
	"strings"
	"testing"
)

// TestHandlerSplit: what a split call accepts and refuses, and that the
// kernel work lists its second half.
func TestHandlerSplit(t *testing.T) {
	w := newWorld(t, "6.16", false)
	s := w.s
	must(t, s.Run(111, 0))   // running: not switched by the stack check
	must(t, s.Insmod("lpa")) // cat:101 sleeps in cmdline_proc_show: the transition waits
	must(t, s.Wake(101))
	for _, c := range []struct {
		in   Input
		want string // "" = accepted
	}{
		{CallBegin{PID: 111, Func: "seq_read"}, "no ftrace handler runs for it (it is not patched)"},
		{CallBegin{PID: 101, Func: "cmdline_proc_show"}, "the handler runs on a CPU: run 101 cpu=N first"},
		{CallFinish{PID: 111}, "not inside klp_ftrace_handler"},
		{CallBegin{PID: 111, Func: "cmdline_proc_show"}, ""},
		{Call{PID: 111, Func: "seq_read"}, "inside klp_ftrace_handler, between its reads; call-finish 111 first"},
		{CondResched{PID: 111}, "call-finish 111 first"},
		{Run{PID: 111, CPU: 1}, "with preemption disabled; call-finish 111 first"},
	} {
		err := s.Step(c.in)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%#v: %v", c.in, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%#v: got %v, want %q", c.in, err, c.want)
		}
	}
	found := false
	for _, n := range s.Pending() {
		if n.Input == (CallFinish{PID: 111}) {
			found = true
		}
	}
	if !found {
		t.Errorf("Pending does not list the handler's second half: %v", s.Pending())
	}
	must(t, s.Step(CallFinish{PID: 111}))
	tk, _ := s.Task(111)
	if got := s.code[tk.Stack[len(tk.Stack)-1].Code].Name; got != "cmdline_proc_show" {
		t.Errorf("kbusy:111 (unpatched, pending) runs %s, want the original", got)
	}
}
