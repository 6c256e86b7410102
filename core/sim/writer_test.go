package sim

import (
	"strings"
	"testing"
)

// The shell's task runs the commands' system calls: it is current in the
// first completion attempt, its CPU is the caller's, and it returns to
// user mode afterwards.
func TestShellRunsTheWrite(t *testing.T) {
	for _, tc := range []struct {
		name, prof string
		spec       TaskSpec
		wantErr    string   // of the insmod
		running    []string // "is running" lines of the first attempt
		shellSw    bool     // the shell switched by checking its own stack
		idleCPU    int      // a CPU whose idle task must have switched, or -1
	}{
		{name: "running on CPU 1, 6.16", prof: "6.16", spec: TaskSpec{State: Running, CPU: 1, User: true},
			shellSw: true, idleCPU: 0},
		{name: "running on CPU 1, 6.1", prof: "6.1", spec: TaskSpec{State: Running, CPU: 1, User: true},
			running: []string{"swapper/0:0 is running"}, shellSw: true, idleCPU: -1},
		{name: "runnable: put on an idle CPU for the call", prof: "6.1", spec: TaskSpec{User: true},
			running: []string{"swapper/1:0 is running"}, shellSw: true, idleCPU: 0},
		{name: "asleep: runs nothing", prof: "6.16", spec: TaskSpec{State: Interruptible, Stack: frames("do_syscall_64", "schedule")},
			wantErr: "insmod: the shell, bash:43, is sleeping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, tc.prof)
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			sleeper(t, s, 42, "cat", UserTask, Uninterruptible, "cmdline_proc_show") // holds the transition
			sp := tc.spec
			sp.PID, sp.Comm = 43, "bash"
			spawn(t, s, sp)
			must(t, s.Step(Shell{PID: 43}))
			err := s.Insmod("lp")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("insmod: %v, want %q", err, tc.wantErr)
				}
				if inTransition(s) {
					t.Fatal("the refused insmod started a transition")
				}
				return
			}
			must(t, err)
			logs := logTexts(s)
			for _, l := range tc.running {
				if !hasLineContaining(logs, l) {
					t.Errorf("no %q line in %q", l, logs)
				}
			}
			if hasLineContaining(logs, "bash:43") {
				t.Errorf("the shell was reported by its own first attempt: %q", logs)
			}
			if sw := "bash:43 switched to " + s.prof.StateName(Patched) + " (stack check)"; tc.shellSw && eventContaining(s.Events(), EvSwitch, sw) < 0 {
				t.Errorf("no event %q", sw)
			}
			bash := task(t, s, 43)
			if bash.InKernel || bash.PatchState != Patched || bash.PatchPending {
				t.Errorf("after the insmod the shell is %+v, want back in user mode, switched", bash)
			}
			if bash.State != tc.spec.State {
				t.Errorf("the shell is %s after the call, was %s", bash.State, tc.spec.State)
			}
			if tc.idleCPU >= 0 && s.idle[tc.idleCPU].PatchState != Patched {
				t.Errorf("swapper/%d not switched", tc.idleCPU)
			}
			if err := stateOK(s); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A shell that exited runs nothing; what comes after runs from no task.
func TestShellExited(t *testing.T) {
	s := newSim(t, "6.16")
	spawn(t, s, TaskSpec{PID: 43, Comm: "bash", User: true})
	must(t, s.Step(Shell{PID: 43}))
	must(t, s.Exit(43))
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	must(t, s.Insmod("lp"))
	if s.writer != 0 {
		t.Fatal("the writer is still the exited task")
	}
	if err := s.Step(Shell{PID: 7}); err == nil {
		t.Fatal("a shell that is no task was accepted")
	}
}

// The kworker running the retry on an idle CPU takes that CPU's idle task
// round its loop when it sleeps again: a switch point even where the idle
// task's stack check fails and nothing else wakes the CPU (v5.15: no
// wake_up_if_idle; nohz_full: no housekeeping wake-ups).
func TestKworkerPassesIdleSwitchPoint(t *testing.T) {
	s := newSim(t, "5.15", withNohz(1))
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	// CPU 0 is busy, so the insmod and the retries run on CPU 1
	spawn(t, s, TaskSpec{PID: 50, Comm: "spin", State: Running, CPU: 0, User: true})
	must(t, s.SetIdleStack(1, frames("do_idle", "cmdline_proc_show")))
	must(t, s.Insmod("lp"))
	if s.idle[1].PatchState == Patched {
		t.Fatal("setup: swapper/1 sleeps on the function and must fail its check")
	}
	s.AdvanceSeconds(1) // the first retry, on CPU 1
	if s.idle[1].PatchState != Patched || eventContaining(s.Events(), EvSwitch, "swapper/1:0 switched to "+s.prof.StateName(Patched)+" (idle loop after the kworker ran there)") < 0 {
		t.Fatal("swapper/1 did not pass its switch point after the kworker ran on CPU 1")
	}
	settle(t, s)
}

// The RFC's synchronize_rcu is a wait of a grace period: the caller
// sleeps while the jiffies pass, and a retry that fell due meanwhile runs
// as soon as time next passes.
func TestRFCSynchronizeRCUWaits(t *testing.T) {
	s := newSim(t, "rfc-sync-rcu")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	sleeper(t, s, 42, "cat", UserTask, Uninterruptible, "cmdline_proc_show")
	must(t, s.Insmod("lp"))
	due := uint64(s.NextWork())
	s.Advance(due - 1 - s.Jiffies()) // one jiffy before the retry
	before := s.Jiffies()
	must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n")) // a reversal: clear, synchronize_rcu, flip
	if got := s.Jiffies() - before; got != rcuTasksPreGP {
		t.Fatalf("the reversal's synchronize_rcu took %d jiffies, want %d", got, rcuTasksPreGP)
	}
	evs := s.Events()
	b, e := -1, -1
	for i, ev := range evs {
		if ev.Kind == EvWait && ev.Wait != nil && ev.Wait.What == WaitRCU {
			if ev.Wait.End {
				e = i
			} else {
				b = i
			}
		}
	}
	if b < 0 || e < b || evs[e].Time-evs[b].Time != int64(rcuTasksPreGP)*1e9/int64(s.HZ()) {
		t.Fatalf("wait events %d..%d", b, e)
	}
	if s.NextWork() != int64(s.Jiffies()) {
		t.Fatalf("the retry that fell due during the wait is at %d, now %d", s.NextWork(), s.Jiffies())
	}
	s.Advance(1)
	if eventContaining(s.Events(), EvStep, "klp_transition_work_fn: retry") < 0 {
		t.Fatal("the overdue retry did not run")
	}
}
