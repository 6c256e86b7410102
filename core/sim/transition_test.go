package sim

import (
	"fmt"
	"strings"
	"testing"
)

// Tests of the transition.c functions as the simulator models them. The
// expected texts come from shared/reference/messages.md (C*/T* ids) and
// the behaviour from semantics.md (§ numbers) and history.md.

// --- klp_init_transition / klp_start_transition -------------------------------

func TestInitTransition(t *testing.T) {
	for _, tc := range []struct {
		prof      string
		unpatch   bool
		wantLines []string
		noDebug   bool
	}{
		{prof: "4.12", wantLines: []string{"livepatch: enabling patch 'lp'", "livepatch: 'lp': patching..."}, noDebug: true},
		{prof: "4.12", unpatch: true, wantLines: []string{"livepatch: 'lp': unpatching..."}, noDebug: true},
		{prof: "4.15", wantLines: []string{"livepatch: enabling patch 'lp'", "livepatch: 'lp': initializing patching transition", "livepatch: 'lp': starting patching transition"}},
		{prof: "5.1", unpatch: true, wantLines: []string{"livepatch: 'lp': initializing unpatching transition", "livepatch: 'lp': starting unpatching transition"}},
		{prof: "6.16", wantLines: []string{"livepatch: enabling patch 'lp'", "livepatch: 'lp': initializing patching transition", "livepatch: 'lp': starting patching transition"}},
		{prof: "6.16", unpatch: true, wantLines: []string{"livepatch: 'lp': initializing unpatching transition", "livepatch: 'lp': starting unpatching transition"}},
	} {
		dir := "patching"
		if tc.unpatch {
			dir = "unpatching"
		}
		t.Run(tc.prof+"/"+dir, func(t *testing.T) {
			s := newSim(t, tc.prof)
			addMods(t, s, targetMod("tmod", "tmod_fn"), lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"), obj("tmod", "lp", "tmod_fn")))
			free := sleeper(t, s, 201, "free", UserTask, Interruptible, "uptime_proc_show")
			target, initial := Patched, Unpatched
			if !tc.unpatch {
				sleeper(t, s, 200, "blocker", UserTask, Uninterruptible, "cmdline_proc_show")
				must(t, s.Insmod("lp"))
			} else {
				must(t, s.Insmod("lp"))
				settle(t, s)
				sleeper(t, s, 200, "blocker", UserTask, Uninterruptible, "lp_cmdline_proc_show")
				s.Ready()
				must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
				target, initial = Unpatched, Patched
			}
			got := logTexts(s)
			inOrder(t, got, tc.wantLines...)
			if tc.noDebug {
				noLineContaining(t, got, "initializing")
			}
			if p, tg := s.InTransition(); p != "lp" || tg != target {
				t.Fatalf("InTransition = %q, %d; want lp, %d", p, tg, target)
			}
			// Every task starts in the initial state; the blocked one
			// keeps it, the free one switched at the first attempt.
			if b := task(t, s, 200); b.PatchState != initial || !b.PatchPending {
				t.Fatalf("blocker: patch_state %d pending %v, want %d pending", b.PatchState, b.PatchPending, initial)
			}
			if f := task(t, s, free); f.PatchState != target || f.PatchPending {
				t.Fatalf("free task: patch_state %d pending %v, want %d not pending", f.PatchState, f.PatchPending, target)
			}
			if got := read(t, s, "/proc/200/patch_state"); got != fmt.Sprintf("%d\n", initial) {
				t.Fatalf("/proc/200/patch_state = %q", got)
			}
			want := fmt.Sprintf("klp_init_transition: every task starts in %s; target %s", s.prof.StateName(initial), s.prof.StateName(target))
			if eventIndex(s.Events(), EvStep, want) < 0 {
				t.Fatalf("no step event %q", want)
			}
			// Every function of the patch gets the transition flag,
			// including those of objects that are not loaded (§11).
			v := s.View()
			for _, o := range v.Patches[0].Objects {
				for _, f := range o.Funcs {
					if !f.Transition {
						t.Fatalf("object %s func %s: transition flag clear during the transition", o.Name, f.Old)
					}
				}
			}
			if err := stateOK(s); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStartTransitionPendingAndNotice(t *testing.T) {
	s := newSim(t, "6.16", withCPUs(3))
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	for i := 0; i < 4; i++ {
		sleeper(t, s, 300+i, fmt.Sprintf("t%d", i), UserTask, Interruptible, "uptime_proc_show")
	}
	must(t, s.Insmod("lp"))
	// 4 threads and 3 idle tasks get TIF_PATCH_PENDING.
	if eventIndex(s.Events(), EvStep, "klp_start_transition: TIF_PATCH_PENDING set on 7 tasks") < 0 {
		t.Fatalf("start event missing: %v", eventsOf(s.Events(), EvStep))
	}
	if c := count(logTexts(s), "livepatch: 'lp': starting patching transition"); c != 1 {
		t.Fatalf("start notice printed %d times", c)
	}
	for _, l := range s.Log() {
		if l.Text == "livepatch: 'lp': starting patching transition" && l.Level != LevelNotice {
			t.Fatalf("start line at level %s, want notice", l.Level)
		}
		if strings.Contains(l.Text, "initializing") && l.Level != LevelDebug {
			t.Fatalf("init line at level %s, want debug", l.Level)
		}
	}
}

// The retry counter restarts at every klp_start_transition, so after a
// reversal the first fake signal comes 15 retries after the reversal.
func TestStartTransitionResetsSignalCounter(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	// A blocks patching (D sleep in the original); B switches, then calls
	// the function and sleeps in the new version, so it blocks unpatching.
	sleeper(t, s, 200, "a", UserTask, Uninterruptible, "cmdline_proc_show")
	b := spawn(t, s, TaskSpec{PID: 201, Comm: "b", State: Runnable, Stack: frames("do_syscall_64")})
	must(t, s.Insmod("lp"))
	if task(t, s, b).PatchState != Patched {
		t.Fatal("b should have switched")
	}
	must(t, s.Call(b, "cmdline_proc_show", 0))
	must(t, s.Sleep(b, true, false))
	s.AdvanceSeconds(10)
	if v := s.View(); v.Transition == nil || v.Transition.Retries < 9 {
		t.Fatalf("retries after 10 s: %+v", v.Transition)
	}
	revAt := s.Now()
	must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
	if v := s.View(); v.Transition.Retries != 0 {
		t.Fatalf("retry counter after reversal = %d, want 0", v.Transition.Retries)
	}
	s.AdvanceSeconds(30)
	at := logTime(s, "livepatch: signaling remaining tasks")
	if at < 0 {
		t.Fatal("no signals after the reversal")
	}
	if d := at - revAt; d < 14e9 || d > 16e9 {
		t.Fatalf("first signal %.3f s after the reversal, want about 15 s", float64(d)/1e9)
	}
}

// --- klp_try_switch_task -------------------------------------------------------

func TestTrySwitchTaskOutcomes(t *testing.T) {
	type outcome struct{ running, unreliable, sleeping string }
	prefixes := map[string]outcome{
		"4.12": {"klp_try_switch_task", "klp_check_stack", "klp_check_stack"},
		"4.16": {"klp_try_switch_task", "klp_check_stack", "klp_check_stack"},
		"5.15": {"klp_try_switch_task", "klp_check_stack", "klp_check_stack"},
		"5.16": {"klp_try_switch_task", "klp_try_switch_task", "klp_try_switch_task"},
		"6.4":  {"klp_try_switch_task", "klp_try_switch_task", "klp_try_switch_task"},
		"6.16": {"klp_try_switch_task", "klp_try_switch_task", "klp_try_switch_task"},
	}
	for prof, pf := range prefixes {
		for _, tc := range []struct {
			name     string
			ts       TaskSpec
			unpatch  bool
			wantLine string // "" = switched at once
		}{
			{"running", TaskSpec{Comm: "busy", Kind: Kthread, State: Running, CPU: 1, Stack: frames("kthread", "worker_thread")}, false, pf.running + ": busy:%d is running"},
			{"unreliable", TaskSpec{Comm: "odd", State: Interruptible, Unreliable: true, Stack: frames("do_syscall_64", "schedule")}, false, pf.unreliable + ": odd:%d has an unreliable stack"},
			{"sleeping-on-orig", TaskSpec{Comm: "cat", State: Interruptible, Stack: frames("do_syscall_64", "seq_read", "cmdline_proc_show", "schedule")}, false, pf.sleeping + ": cat:%d is sleeping on function cmdline_proc_show"},
			{"sleeping-elsewhere", TaskSpec{Comm: "cat", State: Interruptible, Stack: frames("do_syscall_64", "seq_read", "uptime_proc_show", "schedule")}, false, ""},
			{"runnable-on-orig", TaskSpec{Comm: "cat", State: Runnable, Stack: frames("do_syscall_64", "meminfo_proc_show")}, false, pf.sleeping + ": cat:%d is sleeping on function meminfo_proc_show"},
			// unpatching checks the new code, not the original
			{"unpatch-on-new", TaskSpec{Comm: "cat", State: Interruptible, Stack: frames("do_syscall_64", "lp_cmdline_proc_show", "schedule")}, true, pf.sleeping + ": cat:%d is sleeping on function cmdline_proc_show"},
			{"unpatch-on-orig", TaskSpec{Comm: "cat", State: Interruptible, Stack: frames("do_syscall_64", "cmdline_proc_show", "schedule")}, true, ""},
		} {
			t.Run(prof+"/"+tc.name, func(t *testing.T) {
				s := newSim(t, prof)
				addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show", "meminfo_proc_show")))
				if tc.unpatch {
					must(t, s.Insmod("lp"))
					settle(t, s)
				}
				tc.ts.PID = 500
				spawn(t, s, tc.ts)
				s.Ready()
				if tc.unpatch {
					must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
				} else {
					must(t, s.Insmod("lp"))
				}
				got := texts(s.Ready().Log)
				tk := task(t, s, 500)
				_, target := s.InTransition()
				if tc.wantLine == "" {
					noLineContaining(t, got, ":500 ")
					if tk.PatchPending || (target != Idle && tk.PatchState != target) {
						t.Fatalf("task not switched: state %d pending %v", tk.PatchState, tk.PatchPending)
					}
					return
				}
				want := "livepatch: " + fmt.Sprintf(tc.wantLine, 500)
				if count(got, want) != 1 {
					t.Fatalf("want %q once in:\n%s", want, strings.Join(got, "\n"))
				}
				for _, l := range s.Log() {
					if l.Text == want && l.Level != LevelDebug {
						t.Fatalf("%q at level %s, want debug", want, l.Level)
					}
				}
				if !tk.PatchPending || tk.PatchState == target {
					t.Fatalf("task switched although %s", tc.name)
				}
				if !strings.HasSuffix(want, tk.Blocked) || tk.Blocked == "" {
					t.Fatalf("Blocked = %q, want the reason of %q", tk.Blocked, want)
				}
			})
		}
	}
}

// With two patches on one function, patching checks the previous patch's
// version (the next func_stack entry), not the original; unpatching the
// newer patch checks only its own code.
func TestTrySwitchTaskStackedPatches(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, lp("lp1", obj("vmlinux", "lp1", "cmdline_proc_show")), lp("lp2", obj("vmlinux", "lp2", "cmdline_proc_show")))
	must(t, s.Insmod("lp1"))
	settle(t, s)
	sleeper(t, s, 600, "onlp1", UserTask, Uninterruptible, "lp1_cmdline_proc_show")
	sleeper(t, s, 601, "onorig", UserTask, Uninterruptible, "cmdline_proc_show")
	must(t, s.Insmod("lp2"))
	got := logTexts(s)
	if !hasLineContaining(got, "klp_try_switch_task: onlp1:600 is sleeping on function cmdline_proc_show") {
		t.Fatal("a task in lp1's version must block lp2's patching transition")
	}
	noLineContaining(t, got, "onorig:601")
	if task(t, s, 601).PatchState != Patched {
		t.Fatal("a task in the original (now hidden by lp1) must switch at once")
	}
	// Let it complete: the D sleeper goes back to user space.
	must(t, s.Wake(600))
	must(t, s.SyscallExit(600))
	s.AdvanceSeconds(2)
	if inTransition(s) {
		t.Fatal("lp2 did not complete")
	}
	sleeper(t, s, 602, "onlp2", UserTask, Uninterruptible, "lp2_cmdline_proc_show")
	s.Ready()
	must(t, s.WriteFile(lpPath("lp2", "enabled"), "0\n"))
	got = texts(s.Ready().Log)
	if !hasLineContaining(got, "onlp2:602 is sleeping on function cmdline_proc_show") {
		t.Fatalf("unpatching lp2 must be blocked by lp2's code:\n%s", strings.Join(got, "\n"))
	}
	noLineContaining(t, got, "onorig:601")
}

// Without HAVE_RELIABLE_STACKTRACE: refused before v5.2 (ENOSYS, then
// EOPNOTSUPP in 5.1), a warning since; tasks then never pass the stack
// check and print nothing, but still switch at kernel exit.
func TestNoReliableStacks(t *testing.T) {
	for _, tc := range []struct {
		prof string
		err  Errno
	}{{"4.16", ENOSYS}, {"5.1", EOPNOTSUPP}, {"5.2", 0}, {"6.16", 0}} {
		t.Run(tc.prof, func(t *testing.T) {
			s := newSim(t, tc.prof, noReliable())
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			u := spawn(t, s, TaskSpec{PID: 700, Comm: "u", State: Runnable, Stack: frames("do_syscall_64")})
			kt := spawn(t, s, TaskSpec{PID: 701, Comm: "kw", Kind: Kthread, State: Interruptible, Stack: frames("kthread", "worker_thread")})
			err := s.Insmod("lp")
			wantErrno(t, "insmod", err, tc.err)
			msg := "livepatch: This architecture doesn't have support for the livepatch consistency model."
			if tc.err != 0 {
				inOrder(t, logTexts(s), msg)
				if s.Log()[len(s.Log())-1].Level != LevelErr {
					t.Fatal("refusal must be pr_err")
				}
				return
			}
			inOrder(t, logTexts(s), msg, "livepatch: The livepatch transition may never complete.", "livepatch: enabling patch 'lp'")
			s.AdvanceSeconds(20)
			noLineContaining(t, logTexts(s), "klp_try_switch_task")
			if task(t, s, kt).PatchState != Unpatched {
				t.Fatal("a kthread cannot switch without reliable stacks")
			}
			must(t, s.SyscallExit(u))
			if task(t, s, u).PatchState != Patched {
				t.Fatal("kernel exit switches without a stack check")
			}
		})
	}
}

// --- idle tasks ------------------------------------------------------------------

func TestIdleTasks(t *testing.T) {
	for _, tc := range []struct {
		prof string
		kick bool // wake_up_if_idle (v5.16)
	}{{"4.12", false}, {"5.15", false}, {"5.16", true}, {"6.16", true}} {
		t.Run(tc.prof, func(t *testing.T) {
			s := newSim(t, tc.prof, withCPUs(4), withOffline(3))
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			// Keep the transition open so that the idle tasks are observed.
			sleeper(t, s, 800, "blocker", UserTask, Uninterruptible, "cmdline_proc_show")
			must(t, s.Insmod("lp"))
			got := logTexts(s)
			evs := s.Events()
			// CPU 0 runs the insmod: its idle task is not running and
			// passes the stack check. CPU 3 is offline: switched at once.
			if s.idle[0].PatchState != Patched || s.idle[3].PatchState != Patched || s.idle[3].PatchPending {
				t.Fatalf("idle 0/3 states %d/%d", s.idle[0].PatchState, s.idle[3].PatchState)
			}
			noLineContaining(t, got, "swapper/3")
			noLineContaining(t, got, "swapper/0")
			if !hasLineContaining([]string{evs[eventIndex(evs, EvStep, "klp_try_complete_transition")].Text}, "swapper/3:0 (offline)") {
				t.Fatal("offline idle task not reported as switched at once")
			}
			// CPUs 1 and 2 run their idle tasks: "is running".
			for _, c := range []int{1, 2} {
				if count(got, fmt.Sprintf("livepatch: klp_try_switch_task: swapper/%d:0 is running", c)) != 1 {
					t.Fatalf("no 'is running' line for swapper/%d", c)
				}
				kicked := eventIndex(evs, EvTask, fmt.Sprintf("wake_up_if_idle(%d)", c)) >= 0
				if kicked != tc.kick {
					t.Fatalf("cpu %d kicked = %v, want %v", c, kicked, tc.kick)
				}
			}
			s.Advance(1)
			for _, c := range []int{1, 2} {
				sw := s.idle[c].PatchState == Patched
				if sw != tc.kick {
					t.Fatalf("one jiffy later idle %d switched = %v, want %v", c, sw, tc.kick)
				}
			}
			if !tc.kick {
				// Before v5.16 the once-a-second housekeeping wake-up
				// passes the idle loop, before the retry checks.
				s.AdvanceSeconds(1)
				evs = s.Events()
				hk := eventIndex(evs, EvSwitch, "swapper/1:0 switched to "+s.prof.StateName(Patched)+" (idle loop after a housekeeping wakeup)")
				retry := eventIndex(evs, EvStep, "klp_transition_work_fn: retry 1")
				if hk < 0 || retry < 0 || hk > retry {
					t.Fatalf("housekeeping switch at %d, retry at %d", hk, retry)
				}
				if s.idle[1].PatchState != Patched || s.idle[2].PatchState != Patched {
					t.Fatal("idle tasks not switched by the housekeeping pass")
				}
			} else if eventIndex(s.Events(), EvSwitch, "swapper/1:0 switched to "+s.prof.StateName(Patched)+" (idle loop after wake_up_if_idle)") < 0 {
				t.Fatal("no idle-loop switch event")
			}
			if err := stateOK(s); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The idle loop switches without any stack check, even when the idle
// task's stack holds a function being patched.
func TestIdleLoopSwitchesWithoutStackCheck(t *testing.T) {
	s := newSim(t, "6.16", withCPUs(2))
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	must(t, s.SetIdleStack(1, frames("do_idle", "cmdline_proc_show")))
	must(t, s.SetIdleStack(0, frames("do_idle", "cmdline_proc_show")))
	must(t, s.Insmod("lp"))
	// CPU 0 is the caller's CPU: its idle task is checked and sleeps on
	// the function; CPU 1's idle task is running.
	inOrder(t, logTexts(s), "livepatch: klp_try_switch_task: swapper/0:0 is sleeping on function cmdline_proc_show", "livepatch: klp_try_switch_task: swapper/1:0 is running")
	s.Advance(1)
	if s.idle[0].PatchState != Patched || s.idle[1].PatchState != Patched {
		t.Fatal("the kicked idle loops must switch their idle tasks")
	}
	s.AdvanceSeconds(1)
	if inTransition(s) {
		t.Fatal("transition should complete at the first retry")
	}
}

// --- klp_complete_transition -------------------------------------------------------

func TestCompleteTransitionOrder(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, targetMod("tmod", "tmod_fn"), withCallbacks(lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"), obj("tmod", "lp", "tmod_fn"))))
	must(t, s.Insmod("tmod"))
	must(t, s.Insmod("lp"))
	s.Ready()
	settle(t, s)
	r := s.Ready()
	inOrder(t, texts(r.Log),
		"livepatch: 'lp': completing patching transition",
		"lp: post_patch_callback: vmlinux",
		"lp: post_patch_callback: tmod -> [MODULE_STATE_LIVE] Normal state",
		"livepatch: 'lp': patching complete")
	// klp_synchronize_transition (patching: after clearing the transition
	// flags) comes before the post_patch callbacks.
	sync := eventIndex(r.Events, EvSync, "klp_synchronize_transition")
	cb := eventIndex(r.Events, EvCallback, "lp: post_patch callback for vmlinux")
	done := eventIndex(r.Events, EvStep, "klp_complete_transition")
	if !(sync >= 0 && sync < cb && cb < done) {
		t.Fatalf("sync %d, post_patch %d, complete %d", sync, cb, done)
	}
	if err := stateOK(s); err != nil {
		t.Fatal(err)
	}
	for _, fs := range s.View().FuncStacks {
		for _, e := range fs.Entries {
			if e.Transition {
				t.Fatalf("%s: transition flag still set after completion", fs.Func)
			}
		}
	}

	// Unpatching: functions are popped, then synchronised, then
	// post_unpatch runs; the patch is freed (v5.1) and its module is
	// removable.
	must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
	settle(t, s)
	r = s.Ready()
	inOrder(t, texts(r.Log),
		"livepatch: 'lp': initializing unpatching transition",
		"lp: pre_unpatch_callback: vmlinux",
		"lp: pre_unpatch_callback: tmod -> [MODULE_STATE_LIVE] Normal state",
		"livepatch: 'lp': starting unpatching transition",
		"livepatch: 'lp': completing unpatching transition",
		"lp: post_unpatch_callback: vmlinux",
		"lp: post_unpatch_callback: tmod -> [MODULE_STATE_LIVE] Normal state",
		"livepatch: 'lp': unpatching complete")
	pop := eventIndex(r.Events, EvFunc, "func_stack of cmdline_proc_show: popped")
	sync = eventIndex(r.Events, EvSync, "klp_synchronize_transition")
	cb = eventIndex(r.Events, EvCallback, "lp: post_unpatch callback for vmlinux")
	free := eventIndex(r.Events, EvModule, "klp_free_patch: /sys/kernel/livepatch/lp removed")
	if !(pop >= 0 && pop < sync && sync < cb && cb < free) {
		t.Fatalf("pop %d, sync %d, post_unpatch %d, free %d", pop, sync, cb, free)
	}
	if ok, _, _ := s.Stat(lpPath("lp")); ok {
		t.Fatal("patch directory still present after the unpatching transition")
	}
	must(t, s.Rmmod("lp"))
}

// Before v4.15 the complete notice is printed by
// klp_try_complete_transition, and there are no completing/callback lines.
// Before v5.1 a disabled patch stays registered.
func TestCompleteTransitionOldProfiles(t *testing.T) {
	for _, prof := range []string{"4.12", "4.15"} {
		t.Run(prof, func(t *testing.T) {
			s := newSim(t, prof)
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			must(t, s.Insmod("lp"))
			settle(t, s)
			got := logTexts(s)
			inOrder(t, got, "livepatch: 'lp': patching complete")
			if (prof == "4.12") == hasLineContaining(got, "completing patching transition") {
				t.Fatalf("completing line presence wrong for %s", prof)
			}
			wantErrno(t, "rmmod of an enabled patch", s.Rmmod("lp"), EBUSY)
			must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
			settle(t, s)
			if got := read(t, s, lpPath("lp", "enabled")); got != "0\n" {
				t.Fatalf("enabled = %q after disable", got)
			}
			// still registered: can be enabled again
			must(t, s.WriteFile(lpPath("lp", "enabled"), "1\n"))
			settle(t, s)
			must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
			settle(t, s)
			must(t, s.Rmmod("lp"))
			if ok, _, _ := s.Stat(lpPath("lp")); ok {
				t.Fatal("directory still present after rmmod")
			}
		})
	}
}

func TestAtomicReplace(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s,
		withCallbacks(lp("lp1", obj("vmlinux", "lp1", "cmdline_proc_show", "meminfo_proc_show"))),
		withCallbacks(lpReplace("lp2", obj("vmlinux", "lp2", "cmdline_proc_show"))))
	must(t, s.Insmod("lp1"))
	settle(t, s)
	// A task sleeping in lp1's meminfo blocks lp2: the nop's checked
	// range is the version it hides.
	b := sleeper(t, s, 900, "blocker", UserTask, Uninterruptible, "lp1_meminfo_proc_show")
	s.Ready()
	must(t, s.Insmod("lp2"))
	if !hasLineContaining(texts(s.Ready().Log), "blocker:900 is sleeping on function meminfo_proc_show") {
		t.Fatal("the nop must be checked against lp1's version")
	}
	// During the transition the nop has its directory and func_stack entry.
	if ok, dir, _ := s.Stat(lpPath("lp2", "vmlinux", "meminfo_proc_show,1")); !ok || !dir {
		t.Fatal("nop function directory missing during the transition")
	}
	var meminfo *FuncStackView
	v := s.View()
	for i := range v.FuncStacks {
		if v.FuncStacks[i].Func == "meminfo_proc_show" {
			meminfo = &v.FuncStacks[i]
		}
	}
	if meminfo == nil || len(meminfo.Entries) != 2 || !meminfo.Entries[0].Nop || meminfo.Entries[0].Patch != "lp2" || meminfo.Entries[1].Patch != "lp1" {
		t.Fatalf("meminfo func_stack = %+v", meminfo)
	}
	must(t, s.Wake(b))
	must(t, s.SyscallExit(b))
	settle(t, s)
	r := s.Ready()
	got := texts(r.Log)
	inOrder(t, got, "livepatch: 'lp2': completing patching transition", "lp2: post_patch_callback: vmlinux", "livepatch: 'lp2': patching complete")
	// lp1 is dropped without any of its callbacks.
	noLineContaining(t, got, "lp1:")
	unp := eventIndex(r.Events, EvStep, "klp_unpatch_replaced_patches: lp1 disabled")
	nop := eventIndex(r.Events, EvFunc, "func_stack of meminfo_proc_show: popped lp2's entry")
	cb := eventIndex(r.Events, EvCallback, "lp2: post_patch")
	if !(unp >= 0 && unp < nop && nop < cb) {
		t.Fatalf("replace order: unpatch replaced %d, discard nops %d, post_patch %d", unp, nop, cb)
	}
	if eventIndex(r.Events, EvFunc, "ftrace handler unregistered from meminfo_proc_show") < 0 {
		t.Fatal("meminfo_proc_show should have no ftrace handler left")
	}
	if ok, _, _ := s.Stat(lpPath("lp1")); ok {
		t.Fatal("replaced patch directory still present")
	}
	if ok, _, _ := s.Stat(lpPath("lp2", "vmlinux", "meminfo_proc_show,1")); ok {
		t.Fatal("nop directory still present after the nops were discarded")
	}
	v = s.View()
	if len(v.FuncStacks) != 1 || v.FuncStacks[0].Func != "cmdline_proc_show" || len(v.FuncStacks[0].Entries) != 1 || v.FuncStacks[0].Entries[0].Patch != "lp2" {
		t.Fatalf("func stacks after replace: %+v", v.FuncStacks)
	}
	must(t, s.Rmmod("lp1"))
	wantErrno(t, "rmmod lp2", s.Rmmod("lp2"), EBUSY)
	// After the replace, calls of meminfo_proc_show run the original again.
	u := spawn(t, s, TaskSpec{PID: 901, Comm: "u", State: Runnable, Stack: frames("do_syscall_64")})
	must(t, s.Call(u, "meminfo_proc_show", 0))
	if tk := task(t, s, u); s.Code(tk.Stack[len(tk.Stack)-1].Code).Name != "meminfo_proc_show" {
		t.Fatal("the original should run after the replace discarded lp1")
	}
}

// --- klp_cancel_transition ------------------------------------------------------------

func TestCancelTransition(t *testing.T) {
	for _, tc := range []struct {
		prof    string
		ftrace  bool // fail in ftrace registration instead of pre_patch
		want    []string
		err     Errno
		noLines []string
	}{
		{prof: "6.16", err: ENODEV, want: []string{
			"livepatch: enabling patch 'lp'",
			"livepatch: 'lp': initializing patching transition",
			"lp: pre_patch_callback: vmlinux",
			"lp: pre_patch_callback: tmod -> [MODULE_STATE_LIVE] Normal state",
			"livepatch: pre-patch callback failed for object 'tmod'",
			"livepatch: failed to enable patch 'lp'",
			"livepatch: 'lp': canceling patching transition, going to unpatch",
			"livepatch: 'lp': completing unpatching transition",
			"lp: post_unpatch_callback: vmlinux",
			"livepatch: 'lp': unpatching complete",
		}, noLines: []string{"starting", "post_unpatch_callback: tmod"}},
		{prof: "4.15", err: ENODEV, want: []string{
			"livepatch: pre-patch callback failed for object 'tmod'",
			"livepatch: failed to enable patch 'lp'",
			"livepatch: 'lp': canceling patching transition, going to unpatch",
			"livepatch: 'lp': completing unpatching transition",
			"lp: post_unpatch_callback: vmlinux",
			"livepatch: 'lp': unpatching complete",
		}, noLines: []string{"starting"}},
		{prof: "6.16", ftrace: true, err: EBUSY, want: []string{
			"livepatch: enabling patch 'lp'",
			"livepatch: 'lp': initializing patching transition",
			"livepatch: failed to register ftrace handler for function 'cmdline_proc_show' (-16)",
			"livepatch: failed to patch object 'vmlinux'",
			"livepatch: failed to enable patch 'lp'",
			"livepatch: 'lp': canceling patching transition, going to unpatch",
			"livepatch: 'lp': completing unpatching transition",
			"livepatch: 'lp': unpatching complete",
		}, noLines: []string{"starting"}},
		// v4.12: one warning, no cancel/complete lines at all.
		{prof: "4.12", ftrace: true, err: EBUSY, want: []string{
			"livepatch: enabling patch 'lp'",
			"livepatch: failed to register ftrace handler for function 'cmdline_proc_show' (-16)",
			"livepatch: failed to enable patch 'lp'",
		}, noLines: []string{"failed to patch object", "complete", "canceling", "patching..."}},
	} {
		t.Run(fmt.Sprintf("%s/ftrace=%v", tc.prof, tc.ftrace), func(t *testing.T) {
			s := newSim(t, tc.prof)
			m := lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"), obj("tmod", "lp", "tmod_fn"))
			if !tc.ftrace {
				m.Patch.Objects[0].Callbacks = selftestCallbacks(0)
				m.Patch.Objects[1].Callbacks = selftestCallbacks(ENODEV)
			}
			addMods(t, s, targetMod("tmod", "tmod_fn"), m)
			must(t, s.Insmod("tmod"))
			if tc.ftrace {
				must(t, s.WriteFile("/proc/sys/kernel/ftrace_enabled", "0\n"))
			}
			s.Ready()
			wantErrno(t, "insmod lp", s.Insmod("lp"), tc.err)
			got := texts(s.Ready().Log)
			inOrder(t, got, tc.want...)
			for _, n := range tc.noLines {
				noLineContaining(t, got, n)
			}
			if inTransition(s) || s.ModuleState("lp") != ModUnloaded {
				t.Fatal("a failed enable must leave no transition and no module")
			}
			if ok, _, _ := s.Stat(lpPath("lp")); ok {
				t.Fatal("sysfs directory left behind")
			}
			if len(s.View().FuncStacks) != 0 {
				t.Fatal("func_stack entries left behind")
			}
			if err := stateOK(s); err != nil {
				t.Fatal(err)
			}
			if s.Warnings() != 0 {
				t.Fatal("cancel raised a warning")
			}
		})
	}
}

// --- klp_reverse_transition ---------------------------------------------------------

func TestReverseTransition(t *testing.T) {
	for _, prof := range []string{"4.12", "4.15", "5.1", "6.3", "6.4", "6.16"} {
		for _, fromPatching := range []bool{true, false} {
			name := prof + "/patching-to-unpatching"
			if !fromPatching {
				name = prof + "/unpatching-to-patching"
			}
			t.Run(name, func(t *testing.T) {
				testReverse(t, prof, fromPatching)
			})
		}
	}
}

func testReverse(t *testing.T, prof string, fromPatching bool) {
	s := newSim(t, prof)
	m := lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"))
	callbacks := s.prof.Callbacks()
	if callbacks {
		m = withCallbacks(m)
	}
	addMods(t, s, m)
	free := spawn(t, s, TaskSpec{PID: 1001, Comm: "free", State: Interruptible, Stack: frames("do_syscall_64", "uptime_proc_show")})
	first, second := "patching", "unpatching"
	if fromPatching {
		sleeper(t, s, 1000, "blocker", UserTask, Uninterruptible, "cmdline_proc_show")
		must(t, s.Insmod("lp"))
	} else {
		first, second = "unpatching", "patching"
		must(t, s.Insmod("lp"))
		settle(t, s)
		sleeper(t, s, 1000, "blocker", UserTask, Uninterruptible, "lp_cmdline_proc_show")
		must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
	}
	if !inTransition(s) {
		t.Fatal("blocker did not block")
	}
	s.Ready()
	val := "0\n"
	if !fromPatching {
		val = "1\n"
	}
	must(t, s.WriteFile(lpPath("lp", "enabled"), val))
	r := s.Ready()
	got := texts(r.Log)
	if callbacks {
		want := fmt.Sprintf("livepatch: 'lp': reversing transition from %s to %s", first, second)
		inOrder(t, got, want, fmt.Sprintf("livepatch: 'lp': starting %s transition", second))
	} else {
		noLineContaining(t, got, "reversing")
		inOrder(t, got, fmt.Sprintf("livepatch: 'lp': %s...", second))
	}
	// The write makes no completion attempt.
	if i := eventIndex(r.Events, EvStep, "klp_try_complete_transition"); i >= 0 {
		t.Fatalf("the reversal write ran a completion attempt: %s", r.Events[i].Text)
	}
	noLineContaining(t, got, "klp_try_switch_task")
	// v6.4 clears the pending flags first, then flips; before, the flip
	// came first.
	clr := eventIndex(r.Events, EvStep, "klp_reverse_transition: TIF_PATCH_PENDING cleared")
	flip := eventIndex(r.Events, EvStep, "klp_reverse_transition: enabled=")
	if clr < 0 || flip < 0 || (clr < flip) != s.prof.ReverseClearsFirst() {
		t.Fatalf("clear at %d, flip at %d (profile %s)", clr, flip, prof)
	}
	if got := read(t, s, lpPath("lp", "enabled")); got != val {
		t.Fatalf("enabled = %q right after the reversal, want %q", got, val)
	}
	if got := read(t, s, lpPath("lp", "transition")); got != "1\n" {
		t.Fatalf("transition = %q after the reversal", got)
	}
	// The blocker is now done; the task that had switched must switch back.
	newTarget := Unpatched
	if !fromPatching {
		newTarget = Patched
	}
	if b := task(t, s, 1000); b.PatchState != newTarget || b.PatchPending {
		t.Fatalf("blocker after reversal: state %d pending %v", b.PatchState, b.PatchPending)
	}
	if f := task(t, s, free); f.PatchState != 1-newTarget || !f.PatchPending {
		t.Fatalf("switched task after reversal: state %d pending %v", f.PatchState, f.PatchPending)
	}
	if err := stateOK(s); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	got = texts(s.Ready().Log)
	inOrder(t, got, fmt.Sprintf("livepatch: 'lp': %s complete", second))
	all := logTexts(s)
	if callbacks {
		if fromPatching {
			// post_unpatch at completion; no pre_unpatch, no post_patch
			inOrder(t, got, "lp: post_unpatch_callback: vmlinux")
			noLineContaining(t, all, "pre_unpatch_callback")
			noLineContaining(t, all, "post_patch_callback")
		} else {
			// post_patch ran at the first completion and runs again now
			if c := count(all, "lp: post_patch_callback: vmlinux"); c != 2 {
				t.Fatalf("post_patch ran %d times, want 2", c)
			}
			noLineContaining(t, got, "unpatch_callback")
		}
	}
	exists, _, _ := s.Stat(lpPath("lp"))
	wantDir := !fromPatching || s.prof.Registration()
	if exists != wantDir {
		t.Fatalf("patch directory present = %v, want %v", exists, wantDir)
	}
	if s.Warnings() != 0 {
		t.Fatal("reversal raised a warning")
	}
}

// --- klp_force_transition -------------------------------------------------------------

func TestForceTransitionPerPatch(t *testing.T) {
	t.Run("unpatch-forced-pins", func(t *testing.T) {
		s := newSim(t, "6.16")
		addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
		must(t, s.Insmod("lp"))
		settle(t, s)
		sleeper(t, s, 1100, "blocker", UserTask, Uninterruptible, "lp_cmdline_proc_show")
		must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
		s.AdvanceSeconds(3)
		s.Ready()
		must(t, s.WriteFile(lpPath("lp", "force"), "1\n"))
		r := s.Ready()
		if len(r.Log) != 1 || r.Log[0].Text != "livepatch: forcing remaining tasks to the patched state" || r.Log[0].Level != LevelWarn {
			t.Fatalf("force log = %v", texts(r.Log))
		}
		if b := task(t, s, 1100); b.PatchState != Unpatched || b.PatchPending {
			t.Fatal("force must switch the blocker")
		}
		if !s.View().Patches[0].Forced {
			t.Fatal("unpatch force must mark the patch forced")
		}
		// Completes at the next retry (about a second later).
		next := s.NextWork()
		s.AdvanceSeconds(2)
		if inTransition(s) {
			t.Fatal("forced transition did not complete")
		}
		if at := logTime(s, "livepatch: 'lp': unpatching complete"); at != s.jifToNs(uint64(next)) {
			t.Fatalf("completed at %d, want the next retry at %d", at, s.jifToNs(uint64(next)))
		}
		if ok, _, _ := s.Stat(lpPath("lp")); ok {
			t.Fatal("directory still present")
		}
		wantErrno(t, "rmmod of a forced patch", s.Rmmod("lp"), EBUSY)
		s.AdvanceSeconds(100)
		wantErrno(t, "rmmod much later", s.Rmmod("lp"), EBUSY)
		if s.View().Modules[0].Refcnt != 1 {
			t.Fatal("forced module must keep its reference")
		}
	})
	t.Run("patch-forced-not-pinned", func(t *testing.T) {
		s := newSim(t, "6.16")
		addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
		b := sleeper(t, s, 1100, "blocker", UserTask, Uninterruptible, "cmdline_proc_show")
		must(t, s.Insmod("lp"))
		must(t, s.WriteFile(lpPath("lp", "force"), "1\n"))
		settle(t, s)
		if s.View().Patches[0].Forced {
			t.Fatal("a plain patching force pins nothing")
		}
		must(t, s.Wake(b))
		must(t, s.SyscallExit(b))
		must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
		settle(t, s)
		must(t, s.Rmmod("lp"))
	})
	t.Run("replace-forced-pins-replaced", func(t *testing.T) {
		s := newSim(t, "6.16")
		addMods(t, s, lp("lp1", obj("vmlinux", "lp1", "cmdline_proc_show")), lpReplace("lp2", obj("vmlinux", "lp2", "cmdline_proc_show")))
		must(t, s.Insmod("lp1"))
		settle(t, s)
		sleeper(t, s, 1100, "blocker", UserTask, Uninterruptible, "lp1_cmdline_proc_show")
		must(t, s.Insmod("lp2"))
		must(t, s.WriteFile(lpPath("lp2", "force"), "1\n"))
		v := s.View()
		if !v.Patches[0].Forced || v.Patches[1].Forced {
			t.Fatalf("forced flags lp1=%v lp2=%v, want true/false", v.Patches[0].Forced, v.Patches[1].Forced)
		}
		settle(t, s)
		wantErrno(t, "rmmod replaced forced lp1", s.Rmmod("lp1"), EBUSY)
		must(t, s.WriteFile(lpPath("lp2", "enabled"), "0\n"))
		// the blocker still runs lp1's code, which lp2's unpatching does
		// not check
		settle(t, s)
		must(t, s.Rmmod("lp2"))
	})
}

// v4.16-v5.0: one global klp_forced flag; after any force no unpatched
// livepatch module drops its reference again.
func TestForceTransitionGlobalPin(t *testing.T) {
	s := newSim(t, "4.16")
	addMods(t, s, lp("lp1", obj("vmlinux", "lp1", "cmdline_proc_show")), lp("lp2", obj("vmlinux", "lp2", "meminfo_proc_show")))
	b := sleeper(t, s, 1200, "blocker", UserTask, Uninterruptible, "cmdline_proc_show")
	must(t, s.Insmod("lp1"))
	must(t, s.WriteFile(lpPath("lp1", "force"), "1\n"))
	if eventIndex(s.Events(), EvStep, "klp_force_transition: klp_forced set") < 0 {
		t.Fatal("no klp_forced event")
	}
	settle(t, s)
	must(t, s.Wake(b))
	must(t, s.SyscallExit(b))
	must(t, s.Insmod("lp2"))
	settle(t, s)
	// lp2 is topmost: disable it first, then lp1.
	for _, p := range []string{"lp2", "lp1"} {
		must(t, s.WriteFile(lpPath(p, "enabled"), "0\n"))
		settle(t, s)
	}
	for _, p := range []string{"lp1", "lp2"} {
		wantErrno(t, "rmmod "+p, s.Rmmod(p), EBUSY)
	}
}

func TestForceErrors(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	must(t, s.Insmod("lp"))
	settle(t, s)
	wantErrno(t, "force 1 outside a transition", s.WriteFile(lpPath("lp", "force"), "1\n"), EINVAL)
	wantErrno(t, "force 0", s.WriteFile(lpPath("lp", "force"), "0\n"), 0)
	wantErrno(t, "force x", s.WriteFile(lpPath("lp", "force"), "x\n"), EINVAL)
	var fe *FSError
	if _, err := s.ReadFile(lpPath("lp", "force")); !errorsAs(err, &fe) || fe.Err != EACCES || fe.Op != "open" {
		t.Fatalf("reading force: %v, want open EACCES", err)
	}
	if s.UsedForce() || count(logTexts(s), "livepatch: forcing remaining tasks to the patched state") != 0 {
		t.Fatal("no force should have happened")
	}
	for _, prof := range []string{"4.12", "4.15"} {
		s := newSim(t, prof)
		addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
		must(t, s.Insmod("lp"))
		if ok, _, _ := s.Stat(lpPath("lp", "force")); ok {
			t.Fatalf("%s has no force attribute", prof)
		}
	}
}
