package sim

import (
	"slices"
	"strings"
	"testing"
)

// withSignalPath declares the calls a SIGSTOP'd task sleeps in.
func withSignalPath() cfgOpt {
	return func(c *Config) {
		c.Vmlinux = append(slices.Clone(c.Vmlinux), FuncDecl{Name: "get_signal", Size: 0x400}, FuncDecl{Name: "do_signal_stop", Size: 0x100})
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
		signalPath  bool
		stopFirst   bool   // stopped before the patch is loaded
		wantStack   string // while stopped
		wantBlocked bool
	}{
		{"6.16 stopped before the transition", "6.16", true, true, "get_signal>do_signal_stop>schedule", true},
		{"6.16 stopped during it: switched first", "6.16", true, false, "lp_get_signal>do_signal_stop>schedule", false},
		{"4.15 stopped during it: stops unswitched", "4.15", true, false, "get_signal>do_signal_stop>schedule", true},
		{"no signal path declared: schedule alone is not pushed", "6.16", false, true, "", false},
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
			if tc.stopFirst {
				must(t, s.Kill(u, "STOP"))
			}
			must(t, s.Insmod("lp"))
			if !tc.stopFirst {
				must(t, s.Kill(u, "STOP"))
			}
			tk := task(t, s, u)
			if tk.State != Stopped {
				t.Fatalf("state %s after SIGSTOP", tk.State)
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
			if task(t, s, u).State != Stopped {
				t.Fatal("the fake signal woke a stopped task")
			}
			must(t, s.Kill(u, "CONT"))
			if !s.RunUntilSettled(uint64(5 * s.HZ())) {
				who, _ := s.Blockers(3)
				t.Fatalf("still in transition after SIGCONT: %v", who)
			}
			if got := stackNames(s, task(t, s, u)); got != "do_syscall_64>seq_read>lp_cmdline_proc_show>schedule" {
				t.Fatalf("after SIGCONT the syscall restarts: stack %q", got)
			}
		})
	}
}
