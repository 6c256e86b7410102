package sim

import "testing"

// Regressions found by long random-event runs (make soak).

// When a replace patch's transition completes, only the patches listed
// before it are replaced and freed (klp_unpatch_replaced_patches and
// klp_free_replaced_patches_async stop at the replace patch). A patch
// enabled after it, reachable by reversing the replace patch's disable,
// keeps its sysfs directory and its func_stack entry.
func TestReplaceKeepsLaterPatches(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s,
		lpReplace("lpc", obj("vmlinux", "lpc", "cmdline_proc_show")),
		lp("lpa", obj("vmlinux", "lpa", "cmdline_proc_show", "meminfo_proc_show")))
	must(t, s.Insmod("lpc"))
	settle(t, s)
	must(t, s.Insmod("lpa"))
	settle(t, s)
	b := sleeper(t, s, 900, "blocker", UserTask, Uninterruptible, "lpc_cmdline_proc_show")
	must(t, s.WriteFile(lpPath("lpc", "enabled"), "0\n")) // blocked by 900
	if p, _ := s.InTransition(); p != "lpc" {
		t.Fatalf("in transition: %q, want lpc", p)
	}
	must(t, s.WriteFile(lpPath("lpc", "enabled"), "1\n")) // reverse
	must(t, s.Wake(b))
	must(t, s.SyscallExit(b))
	settle(t, s)
	for _, p := range []string{"lpc", "lpa"} {
		if ok, dir, _ := s.Stat(lpPath(p)); !ok || !dir {
			t.Errorf("/sys/kernel/livepatch/%s is gone after lpc's reversed disable completed", p)
		}
	}
	if got := read(t, s, lpPath("lpa", "enabled")); got != "1\n" {
		t.Errorf("lpa/enabled = %q, want 1", got)
	}
	// The later patch still decides what a call runs.
	must(t, s.Call(b, "cmdline_proc_show", 0))
	if tk, _ := s.Task(b); s.code[tk.Stack[len(tk.Stack)-1].Code].Name != "lpa_cmdline_proc_show" {
		t.Errorf("a call of cmdline_proc_show runs %s, want lpa's version", s.code[tk.Stack[len(tk.Stack)-1].Code].Name)
	}
	if s.Alarms() != 0 {
		t.Errorf("%d consistency alarms", s.Alarms())
	}
}

// rmmod of a target module is refused while a task runs a livepatch's
// replacement of one of its functions, as it is while the module's own
// code is on a stack: unloading would unpatch the function under the task.
func TestRmmodRefusedUnderRunningReplacement(t *testing.T) {
	for _, prof := range []string{"4.12", "5.1", "6.16"} {
		t.Run(prof, func(t *testing.T) {
			s := newSim(t, prof)
			addMods(t, s, targetMod("tmod", "tmod_a", "tmod_b"), lp("lpa", obj("tmod", "lpa", "tmod_a")))
			must(t, s.Insmod("tmod"))
			must(t, s.Insmod("lpa"))
			settle(t, s)
			k := spawn(t, s, TaskSpec{PID: 300, Comm: "kbusy", Kind: Kthread, State: Runnable, Stack: frames("kthread", "worker_thread")})
			must(t, s.Call(k, "tmod_a", 0))
			if tk, _ := s.Task(k); s.code[tk.Stack[len(tk.Stack)-1].Code].Name != "lpa_tmod_a" {
				t.Fatalf("the call runs %s, want lpa_tmod_a", s.code[tk.Stack[len(tk.Stack)-1].Code].Name)
			}
			wantErrno(t, "rmmod tmod under lpa_tmod_a", s.Rmmod("tmod"), EBUSY)
			must(t, s.Return(k))
			wantErrno(t, "rmmod tmod once it returned", s.Rmmod("tmod"), 0)
			if s.Alarms() != 0 {
				t.Errorf("%d consistency alarms", s.Alarms())
			}
		})
	}
}
