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

// TestHandlerNotPreempted: a task inside the handler runs with preemption
// disabled, so whatever would take its CPU (another task run there, the
// CPU going offline; the kworker or shell woken there goes through the
// same preempt) waits for its handler to finish: the task is never taken off its CPU half-way, where the stack
// check could switch it between the handler's reads (found by a long
// property run: a CPU taken offline under a split call, then a mixed
// call chain).
func TestHandlerNotPreempted(t *testing.T) {
	for _, c := range []struct {
		name string
		take Input
		why  string
	}{
		{"run", Run{PID: 101, CPU: 0}, "preempting CPU 0"},
		{"offline", SetCPUOnline{CPU: 1, Online: false}, "stop_machine (takedown_cpu)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, "6.16", false)
			s := w.s
			cpu := 0
			if c.name == "offline" {
				cpu = 1
			}
			must(t, s.Run(111, cpu))
			must(t, s.Insmod("lpa"))
			must(t, s.Wake(101))
			must(t, s.Step(CallBegin{PID: 111, Func: "cmdline_proc_show"}))
			must(t, s.Step(c.take))
			if s.handlerIdx(111) >= 0 {
				t.Fatal("kbusy:111 is still inside the handler after its CPU was taken")
			}
			waited := false
			for _, e := range s.Events() {
				if e.Kind == EvSync && e.PID == 111 && strings.HasPrefix(e.Text, c.why+" waits for CPU") {
					waited = true
				}
			}
			if !waited {
				t.Errorf("no sync event %q naming kbusy:111", c.why)
			}
			tk, _ := s.Task(111)
			if got := s.code[tk.Stack[len(tk.Stack)-1].Code].Name; got != "cmdline_proc_show" {
				t.Errorf("kbusy:111 runs %s after its handler, want cmdline_proc_show", got)
			}
		})
	}
}

// TestRmmodWaitsForHandler: a task inside the ftrace handler of a
// module's function is executing that function, so the module cannot go
// (found by a long property run: rmmod between the handler's reads left
// the task running the unloaded module's original, mixed with a patch).
func TestRmmodWaitsForHandler(t *testing.T) {
	w := newWorld(t, "6.16", false)
	s := w.s
	must(t, s.Insmod("tmod"))
	must(t, s.Insmod("lpa"))
	must(t, s.Run(111, 1))
	must(t, s.Step(CallBegin{PID: 111, Func: "tmod_a"}))
	if err := s.Rmmod("tmod"); err != EBUSY {
		t.Fatalf("rmmod tmod with kbusy:111 inside tmod_a's handler: %v, want EBUSY", err)
	}
	must(t, s.Step(CallFinish{PID: 111}))
	must(t, s.Return(111))
	if err := s.Rmmod("tmod"); err != nil {
		t.Fatalf("rmmod tmod once the call returned: %v", err)
	}
}

// TestHookSplit: what a split cond_resched accepts and refuses, that the
// kernel work lists its second half and that a synchronisation finishes
// it; a split hook that acts on nothing is refused with the reason.
func TestHookSplit(t *testing.T) {
	for _, c := range []struct {
		profile string
		want    string // the refusal of `cond_resched 111 split`, "" = accepted
	}{
		{"6.16", "has no cond_resched hook"},
		{"6.1", "has no cond_resched hook"},
		{"6.4", ""},
		{"cond-resched-v1", ""},
	} {
		w := newWorld(t, c.profile, false)
		s := w.s
		must(t, s.Run(111, 0))
		if err := s.Step(CondResched{PID: 111, Split: true}); c.want != "" {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, before any transition: got %v, want %q", c.profile, err, c.want)
			}
			continue
		} else if err == nil || !strings.Contains(err.Error(), "no transition has enabled it") {
			t.Errorf("%s, before any transition: got %v, want the hook disabled", c.profile, err)
		}
		must(t, s.Insmod("lpa"))
		must(t, s.Step(CondResched{PID: 111, Split: true}))
		for _, bad := range []struct {
			in   Input
			want string
		}{
			{CallFinish{PID: 111}, "cond_resched-finish 111"},
			{Call{PID: 111, Func: "seq_read"}, "inside __klp_sched_try_switch, between its reads; cond_resched-finish 111 first"},
			{Run{PID: 111, CPU: 1}, "with preemption disabled; cond_resched-finish 111 first"},
			{CondReschedFinish{PID: 101}, "not inside __klp_sched_try_switch"},
		} {
			if err := s.Step(bad.in); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("%s: %#v: got %v, want %q", c.profile, bad.in, err, bad.want)
			}
		}
		found := false
		for _, n := range s.Pending() {
			found = found || n.Input == (CondReschedFinish{PID: 111})
		}
		if !found {
			t.Errorf("%s: Pending does not list the hook's second half: %v", c.profile, s.Pending())
		}
		if v := s.View(); v.Tasks[viewTaskIdx(v, 111)].InHook == "" {
			t.Errorf("%s: the view does not show kbusy:111 inside the hook", c.profile)
		}
		// the reversal's synchronisation finishes the hook in flight
		must(t, s.WriteFile("/sys/kernel/livepatch/lpa/enabled", "0\n"))
		if s.handlerIdx(111) >= 0 {
			t.Errorf("%s: the reversal left the hook in flight", c.profile)
		}
	}
}

func viewTaskIdx(v View, pid int) int {
	for i, t := range v.Tasks {
		if t.PID == pid {
			return i
		}
	}
	return -1
}

// TestWarnLines: patch.c's WARN_ON sites print at every hit, naming their
// line; a WARN_ON_ONCE site prints once however often it fires (the
// event is recorded each time).
func TestWarnLines(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	must(t, s.Insmod("lp"))
	r := FuncRef{}
	for i := 0; i < 2; i++ {
		wantErrno(t, "klp_patch_func of a patched func", s.patchFunc(r), EINVAL)
	}
	s.warnOnceOn("klp_ftrace_handler: patch_state == KLP_TRANSITION_IDLE", "kernel/livepatch/patch.c", "klp_ftrace_handler", 0, 0, 1)
	s.warnOnceOn("klp_ftrace_handler: patch_state == KLP_TRANSITION_IDLE", "kernel/livepatch/patch.c", "klp_ftrace_handler", 0, 0, 1)
	got := logTexts(s)
	for _, c := range []struct {
		line string
		n    int
	}{
		{"WARNING: CPU: 0 PID: 0 at kernel/livepatch/patch.c:168 klp_patch_func", 2},
		{"WARNING: CPU: 1 PID: 0 at kernel/livepatch/patch.c:98 klp_ftrace_handler", 1},
		{"------------[ cut here ]------------", 3},
	} {
		if n := count(got, c.line); n != c.n {
			t.Errorf("%q printed %d times, want %d:\n%s", c.line, n, c.n, strings.Join(got, "\n"))
		}
	}
	if n := s.Warnings(); n != 4 {
		t.Errorf("Warnings() = %d, want 4 (every hit counts)", n)
	}
	ws := eventsOf(s.Events(), EvWarning)
	if len(ws) != 4 || ws[0].Text != "WARN_ON: klp_patch_func: func->patched" || ws[2].Text != "WARN_ON_ONCE: klp_ftrace_handler: patch_state == KLP_TRANSITION_IDLE" {
		t.Errorf("warning events %+v", ws)
	}
}

// TestWarnLineByKernel: klp_complete_transition's WARN_ON_ONCE is where
// each checked kernel has it (README, modelling choices).
func TestWarnLineByKernel(t *testing.T) {
	const site = "klp_complete_transition: TIF_PATCH_PENDING still set"
	for _, c := range []struct {
		prof string
		line int
	}{
		{"4.15", 122},                                        // sndrzt/linux-4.15
		{"6.0", 110}, {"6.3", 110}, {"cond-resched-v1", 110}, // before the v6.4 series
		{"6.4", 132}, {"6.10", 132}, {"6.15", 132}, // seeds 001 and 000
		{"6.16", 123}, {"rfc-sync-rcu", 123}, // after 676e8cf70cb0
		{"5.1", 132}, // not checked: the v6.4 lines
	} {
		p, err := ParseProfile(c.prof)
		if err != nil {
			t.Fatal(err)
		}
		if l, ok := p.warnLine(site); !ok || l != c.line {
			t.Errorf("%s: line %d (%v), want %d", c.prof, l, ok, c.line)
		}
	}
	p, _ := ParseProfile("6.16")
	if l, _ := p.warnLine("klp_ftrace_handler: patch_state == KLP_TRANSITION_IDLE"); l != 98 {
		t.Errorf("patch.c's handler site on 6.16: %d", l)
	}
	// 676e8cf70cb0 as merged: 21 lines fewer by klp_start_transition
	if l, _ := p.warnLine("klp_start_transition: klp_target_state == KLP_TRANSITION_IDLE"); l != 514 {
		t.Errorf("klp_start_transition's site on 6.16: %d", l)
	}
	// a site the 6.0-6.3 table lacks falls back to v6.4's line
	p, _ = ParseProfile("6.3")
	if l, _ := p.warnLine("klp_start_transition: klp_target_state == KLP_TRANSITION_IDLE"); l != 535 {
		t.Errorf("klp_start_transition's site on 6.3: %d", l)
	}
}
