package sim

import (
	"slices"
	"strings"
	"testing"
)

// withSignalPath declares the calls a SIGSTOP'd task sleeps in.
func withSignalPath() cfgOpt {
	return func(c *Config) {
		c.Vmlinux = append(slices.Clone(c.Vmlinux), FuncDecl{Name: "get_signal", Size: 0x400}, FuncDecl{Name: "do_signal_stop", Size: 0x100},
			FuncDecl{Name: "ptrace_signal", Size: 0x100}, FuncDecl{Name: "ptrace_stop", Size: 0x200})
	}
}

func stackNames(s *Sim, tk Task) string {
	var n []string
	for _, f := range tk.Stack {
		n = append(n, s.Code(f.Code).Name)
	}
	return strings.Join(n, ">")
}

// TestStopFrames: a task stopped by SIGSTOP sleeps in get_signal →
// do_signal_stop → schedule (where the scenario declares them), so the
// stack check sees them: a patch of get_signal waits for a task that
// stopped in the old one — a fake signal does not wake a stopped task —
// until SIGCONT. From v4.16 the exit switches a task before it stops, so
// only a task stopped before the transition began, or on an older kernel,
// blocks it.
func TestStopFrames(t *testing.T) {
	for _, tc := range []struct {
		name        string
		prof        string
		trace       bool // ptrace attach/detach instead of SIGSTOP/SIGCONT
		signalPath  bool
		stopFirst   bool   // stopped before the patch is loaded
		wantStack   string // while stopped
		wantBlocked bool
	}{
		{"6.16 stopped before the transition", "6.16", false, true, true, "get_signal>do_signal_stop>schedule", true},
		{"6.16 stopped during it: switched first", "6.16", false, true, false, "lp_get_signal>do_signal_stop>schedule", false},
		{"4.15 stopped during it: stops unswitched", "4.15", false, true, false, "get_signal>do_signal_stop>schedule", true},
		{"no signal path declared: schedule alone is not pushed", "6.16", false, false, true, "", false},
		{"6.16 traced before the transition", "6.16", true, true, true, "get_signal>ptrace_signal>ptrace_stop>schedule", true},
		{"6.16 attached during it: the attach's SIGSTOP wakes it, it switches, then stops", "6.16", true, true, false, "lp_get_signal>ptrace_signal>ptrace_stop>schedule", false},
		{"4.15 attached during it: stops unswitched", "4.15", true, true, false, "get_signal>ptrace_signal>ptrace_stop>schedule", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []cfgOpt{}
			if tc.signalPath {
				opts = append(opts, withSignalPath())
			}
			s := newSim(t, tc.prof, opts...)
			patched := []string{"cmdline_proc_show"}
			if tc.signalPath {
				patched = append(patched, "get_signal")
			}
			addMods(t, s, lp("lp", obj("vmlinux", "lp", patched...)))
			// asleep in a patched function: not switched when it stops
			u := sleeper(t, s, 1800, "cat", UserTask, Interruptible, "cmdline_proc_show")
			stop, cont, stopped := func() { must(t, s.Kill(u, "STOP")) }, func() { must(t, s.Kill(u, "CONT")) }, Stopped
			if tc.trace {
				stop, cont, stopped = func() { must(t, s.Trace(u, true)) }, func() { must(t, s.Trace(u, false)) }, Traced
			}
			if tc.stopFirst {
				stop()
			}
			must(t, s.Insmod("lp"))
			if !tc.stopFirst {
				stop()
			}
			tk := task(t, s, u)
			if tk.State != stopped {
				t.Fatalf("state %s after the stop, want %s", tk.State, stopped)
			}
			if got := stackNames(s, tk); got != tc.wantStack {
				t.Fatalf("stopped in %q, want %q", got, tc.wantStack)
			}
			if want := strings.Count(tc.wantStack, ">") + 1; tc.wantStack != "" && strings.Count(read(t, s, "/proc/1800/stack"), "\n") != want {
				t.Fatalf("/proc/1800/stack:\n%s", read(t, s, "/proc/1800/stack"))
			}
			// 20 s: retries and a round of fake signals
			done := s.RunUntilSettled(uint64(20 * s.HZ()))
			if done == tc.wantBlocked {
				who, _ := s.Blockers(3)
				t.Fatalf("settled %v, want %v (blockers %v)", done, !tc.wantBlocked, who)
			}
			if !tc.wantBlocked {
				return
			}
			if who, n := s.Blockers(3); n != 1 || !strings.Contains(who[0], "get_signal") {
				t.Fatalf("blockers %v, want cat in get_signal", who)
			}
			if task(t, s, u).State != stopped {
				t.Fatal("the fake signal woke a stopped task")
			}
			cont()
			if !s.RunUntilSettled(uint64(5 * s.HZ())) {
				who, _ := s.Blockers(3)
				t.Fatalf("still in transition after it went on: %v", who)
			}
			if got := stackNames(s, task(t, s, u)); got != "do_syscall_64>seq_read>lp_cmdline_proc_show>schedule" {
				t.Fatalf("after SIGCONT the syscall restarts: stack %q", got)
			}
		})
	}
}

// TestPtraceAttachDetach: the attach's SIGSTOP stops a tracee where a
// SIGSTOP would (a running kernel task only on its way out), and a detach
// needs a ptrace stop.
func TestPtraceAttachDetach(t *testing.T) {
	s := newSim(t, "6.16", withSignalPath())
	u := spawn(t, s, TaskSpec{PID: 1900, Comm: "spin", Kind: UserTask, State: Running, Stack: frames("do_syscall_64", "vfs_read")})
	must(t, s.Trace(u, true))
	if tk := task(t, s, u); tk.State != Running || !tk.StopPending {
		t.Fatalf("a task running in the kernel stops on its way out: state %s, pending %v", tk.State, tk.StopPending)
	}
	if err := s.Trace(u, true); err == nil || !strings.Contains(err.Error(), "EPERM") {
		t.Fatalf("a second attach: %v, want EPERM", err)
	}
	if err := s.Trace(u, false); err == nil || !strings.Contains(err.Error(), "ESRCH") {
		t.Fatalf("a detach before the stop: %v, want ESRCH", err)
	}
	must(t, s.SyscallExit(u))
	if tk := task(t, s, u); tk.State != Traced || stackNames(s, tk) != "get_signal>ptrace_signal>ptrace_stop>schedule" {
		t.Fatalf("after its return: %s in %q", tk.State, stackNames(s, tk))
	}
	must(t, s.Kill(u, "STOP"))
	must(t, s.Kill(u, "CONT")) // SIGCONT does not end a ptrace stop
	if task(t, s, u).State != Traced {
		t.Fatal("SIGCONT resumed a traced task")
	}
	must(t, s.Trace(u, false))
	if tk := task(t, s, u); tk.State != Runnable || tk.InKernel || len(tk.Stack) != 0 {
		t.Fatalf("after the detach: %s, in kernel %v, stack %q", tk.State, tk.InKernel, stackNames(s, tk))
	}
	if err := s.Trace(u, false); err == nil || !strings.Contains(err.Error(), "ESRCH") {
		t.Fatalf("a detach of an untraced task: %v, want ESRCH", err)
	}
}
