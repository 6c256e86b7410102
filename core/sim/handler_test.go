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
	must(t, s.Run(102, 0))   // running: not switched by the stack check
	must(t, s.Insmod("lpa")) // cat:101 sleeps in cmdline_proc_show: the transition waits
	must(t, s.Wake(101))
	for _, c := range []struct {
		in   Input
		want string // "" = accepted
	}{
		{CallBegin{PID: 102, Func: "seq_read"}, "no ftrace handler runs for it (it is not patched)"},
		{CallBegin{PID: 101, Func: "cmdline_proc_show"}, "the handler runs on a CPU: run 101 cpu=N first"},
		{CallFinish{PID: 102}, "not inside klp_ftrace_handler"},
		{CallBegin{PID: 102, Func: "cmdline_proc_show"}, ""},
		{Call{PID: 102, Func: "seq_read"}, "inside klp_ftrace_handler, between its reads; call-finish 102 first"},
		{SyscallExit{PID: 102}, "call-finish 102 first"},
		{Run{PID: 102, CPU: 1}, "with preemption disabled; call-finish 102 first"},
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
		if n.Input == (CallFinish{PID: 102}) {
			found = true
		}
	}
	if !found {
		t.Errorf("Pending does not list the handler's second half: %v", s.Pending())
	}
	must(t, s.Step(CallFinish{PID: 102}))
	tk, _ := s.Task(102)
	if got := s.code[tk.Stack[len(tk.Stack)-1].Code].Name; got != "cmdline_proc_show" {
		t.Errorf("sh:102 (unpatched, pending) runs %s, want the original", got)
	}
}
