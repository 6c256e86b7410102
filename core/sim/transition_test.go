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
			{"unpatch-elsewhere", TaskSpec{Comm: "cat", State: Interruptible, Stack: frames("do_syscall_64", "uptime_proc_show", "schedule")}, true, ""},
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
	// A stack declared now is a history of calls through the ftrace
	// handler: "in cmdline_proc_show" means in lp1's version.
	sleeper(t, s, 601, "late", UserTask, Uninterruptible, "cmdline_proc_show")
	if st := task(t, s, 601).Stack; s.Code(st[2].Code).ForPatch != "lp1" {
		t.Fatalf("declared frame does not run lp1's version")
	}
	must(t, s.Insmod("lp2"))
	got := logTexts(s)
	if !hasLineContaining(got, "klp_try_switch_task: onlp1:600 is sleeping on function cmdline_proc_show") {
		t.Fatal("a task in lp1's version must block lp2's patching transition")
	}
	if !hasLineContaining(got, "late:601 is sleeping on function cmdline_proc_show") {
		t.Fatal("a task in lp1's version must block lp2 too")
	}
	// Let it complete: the D sleeper goes back to user space.
	for _, pid := range []int{600, 601} {
		must(t, s.Wake(pid))
		must(t, s.SyscallExit(pid))
	}
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
	noLineContaining(t, got, "late:601")
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
		poke bool // the hook's text poke switches idle CPUs at once (v6.4)
	}{{"4.12", false, false}, {"5.15", false, false}, {"5.16", true, false}, {"6.1", true, false}, {"6.4", true, true}, {"6.16", true, true}} {
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
			if tc.poke {
				// klp_cond_resched_enable's text poke synced CPUs 1
				// and 2, polling in idle: both left the idle loop
				// through schedule_idle and switched, unchecked.
				for _, c := range []int{1, 2} {
					noLineContaining(t, got, fmt.Sprintf("swapper/%d", c))
					if s.idle[c].PatchState != Patched || eventIndex(evs, EvSwitch, fmt.Sprintf("swapper/%d:0 switched to %s (idle loop: the text-poke sync set need_resched)", c, s.prof.StateName(Patched))) < 0 {
						t.Fatalf("idle %d not switched by the text poke", c)
					}
					if eventIndex(evs, EvTask, fmt.Sprintf("wake_up_if_idle(%d)", c)) >= 0 {
						t.Fatalf("cpu %d kicked although its idle task switched", c)
					}
				}
				if eventContaining(evs, EvSync, "text_poke_bp syncs CPUs 1,2 3 times") < 0 {
					t.Fatal("no text-poke sync event for CPUs 1,2 (CPU 0 runs the insmod; 3 is offline)")
				}
				return
			}
			if eventContaining(evs, EvSync, "text_poke") >= 0 {
				t.Fatal("a text poke before v6.4")
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
	s := newSim(t, "6.1", withCPUs(2)) // (v6.4+: the text poke, TestIdleTasks)
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
	s.Ready()
	must(t, s.Insmod("lp"))
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
			wantErrno(t, "rmmod of an enabled patch", s.Rmmod("lp"), EAGAIN) // try_stop_module: still referenced
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
	wantErrno(t, "rmmod lp2", s.Rmmod("lp2"), EAGAIN) // try_stop_module: still referenced
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
	callbacks := prof != "4.12"
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
	clearsFirst := map[string]bool{"6.4": true, "6.16": true}[prof]
	if clr < 0 || flip < 0 || (clr < flip) != clearsFirst {
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
	wantDir := !fromPatching || prof == "4.12" || prof == "4.15"
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
		// klp_complete_transition starts at the next retry and ends after
		// the RCU Tasks grace period of the ftrace ops' unregistering
		// (its first holdout check: synchronize_rcu, then HZ/10).
		gpAt := s.jifToNs(uint64(next) + rcuTasksPreGP + uint64(s.HZ()/10))
		if at := logTime(s, "livepatch: 'lp': unpatching complete"); at != gpAt {
			t.Fatalf("completed at %d, want the end of the grace period begun at the next retry, %d", at, gpAt)
		}
		if ok, _, _ := s.Stat(lpPath("lp")); ok {
			t.Fatal("directory still present")
		}
		wantErrno(t, "rmmod of a forced patch", s.Rmmod("lp"), EAGAIN) // try_stop_module: still referenced
		s.AdvanceSeconds(100)
		wantErrno(t, "rmmod much later", s.Rmmod("lp"), EAGAIN)
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
		wantErrno(t, "rmmod replaced forced lp1", s.Rmmod("lp1"), EAGAIN) // try_stop_module: still referenced
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
		wantErrno(t, "rmmod "+p, s.Rmmod(p), EAGAIN) // try_stop_module: still referenced
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

// --- fake signals ------------------------------------------------------------------------

func TestFakeSignalsAutomatic(t *testing.T) {
	for _, prof := range []string{"5.1", "5.13", "6.16"} {
		t.Run(prof, func(t *testing.T) {
			s := newSim(t, prof)
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			us := sleeper(t, s, 1300, "cat", UserTask, Interruptible, "cmdline_proc_show")
			ud := sleeper(t, s, 1301, "dd", UserTask, Uninterruptible, "cmdline_proc_show")
			kt := sleeper(t, s, 1302, "kworker", Kthread, Interruptible, "cmdline_proc_show")
			must(t, s.Insmod("lp"))
			s.AdvanceSeconds(14.5)
			noLineContaining(t, logTexts(s), "signaling")
			s.Ready()
			s.AdvanceSeconds(0.5)
			r := s.Ready()
			got := texts(r.Log)
			// The 16th attempt (counter 15) at 14.848 s (the whole second
			// 14.816 s, then the end of its 8-jiffy wheel bucket): per-task
			// lines first, then the notice.
			pfx := "livepatch: klp_check_stack: "
			if s.prof.TaskCallFunc() {
				pfx = "livepatch: klp_try_switch_task: "
			}
			inOrder(t, got, pfx+"cat:1300 is sleeping on function cmdline_proc_show", "livepatch: signaling remaining tasks")
			if at := logTime(s, "livepatch: signaling remaining tasks"); at != 14848e6 {
				t.Fatalf("signals at %d ns, want 14.848 s", at)
			}
			// The interruptible user sleeper unwound, switched at the
			// kernel exit and re-ran its calls, now in the new version.
			c := task(t, s, us)
			if c.PatchState != Patched || c.PatchPending || c.State != Interruptible {
				t.Fatalf("cat: state %d pending %v %s", c.PatchState, c.PatchPending, c.State)
			}
			if eventIndex(r.Events, EvSwitch, "cat:1300 switched to "+s.prof.StateName(Patched)+" (kernel exit after fake signal)") < 0 {
				t.Fatal("no kernel-exit switch event for cat")
			}
			var names []string
			for _, f := range c.Stack {
				names = append(names, s.Code(f.Code).Name)
			}
			if strings.Join(names, ",") != "do_syscall_64,seq_read,lp_cmdline_proc_show,schedule" {
				t.Fatalf("restarted stack = %v", names)
			}
			if eventIndex(r.Events, EvCall, "cat:1300 calls cmdline_proc_show: the ftrace handler runs lp_cmdline_proc_show [lp] (patch_state 1)") < 0 {
				t.Fatal("the restarted call should go through the handler to the new code")
			}
			// The D sleeper stays; the kthread is woken but stays blocked.
			if d := task(t, s, ud); d.PatchState != Unpatched || !d.PatchPending || d.State != Uninterruptible {
				t.Fatal("uninterruptible sleeper must stay")
			}
			k := task(t, s, kt)
			if k.State != Runnable || k.PatchState != Unpatched || !k.PatchPending || len(k.Stack) != 5 {
				t.Fatalf("kthread after the wake-up: %s state %d stack %d", k.State, k.PatchState, len(k.Stack))
			}
			if eventIndex(r.Events, EvSignal, "kworker:1302 woken (wake_up_state TASK_INTERRUPTIBLE)") < 0 {
				t.Fatal("kthread not woken")
			}
			s.Ready()
			s.AdvanceSeconds(1)
			if !hasLineContaining(texts(s.Ready().Log), "kworker:1302 is sleeping on function cmdline_proc_show") {
				t.Fatal("woken kthread must still be blocked by the function on its stack")
			}
			// Later rounds (30 s, 45 s) signal silently.
			s.AdvanceSeconds(31)
			if n := count(logTexts(s), "livepatch: signaling remaining tasks"); n != 1 {
				t.Fatalf("notice printed %d times, want once", n)
			}
			dd := 0
			for _, e := range eventsOf(s.Events(), EvSignal) {
				if strings.HasPrefix(e.Text, "dd:1301 gets a fake signal") {
					dd++
				}
			}
			if dd != 3 {
				t.Fatalf("dd got %d fake signals by 46 s, want 3 (15, 30, 45)", dd)
			}
		})
	}
}

// v4.16-v5.0: signals only by writing the signal attribute; each write
// prints the notice. Older profiles have no signals at all.
func TestFakeSignalsManual(t *testing.T) {
	s := newSim(t, "4.16")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	us := sleeper(t, s, 1400, "cat", UserTask, Interruptible, "cmdline_proc_show")
	sleeper(t, s, 1401, "dd", UserTask, Uninterruptible, "cmdline_proc_show")
	must(t, s.Insmod("lp"))
	s.AdvanceSeconds(40)
	noLineContaining(t, logTexts(s), "signaling")
	if task(t, s, us).PatchState != Unpatched {
		t.Fatal("no automatic signal before v5.1")
	}
	wantErrno(t, "signal 0", s.WriteFile(lpPath("lp", "signal"), "0\n"), 0)
	noLineContaining(t, logTexts(s), "signaling")
	must(t, s.WriteFile(lpPath("lp", "signal"), "1\n"))
	if task(t, s, us).PatchState != Patched {
		t.Fatal("manual signal should push cat through the kernel exit")
	}
	must(t, s.WriteFile(lpPath("lp", "signal"), "1\n"))
	if n := count(logTexts(s), "livepatch: signaling remaining tasks"); n != 2 {
		t.Fatalf("notice printed %d times for two writes", n)
	}
	must(t, s.WriteFile(lpPath("lp", "force"), "1\n"))
	settle(t, s)
	wantErrno(t, "signal outside a transition", s.WriteFile(lpPath("lp", "signal"), "1\n"), EINVAL)

	for _, prof := range []string{"4.12", "4.15", "5.1", "6.16"} {
		s := newSim(t, prof)
		addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
		sleeper(t, s, 1400, "cat", UserTask, Interruptible, "cmdline_proc_show")
		must(t, s.Insmod("lp"))
		if ok, _, _ := s.Stat(lpPath("lp", "signal")); ok {
			t.Fatalf("%s has no signal attribute", prof)
		}
		if prof == "4.12" || prof == "4.15" {
			s.AdvanceSeconds(40)
			noLineContaining(t, logTexts(s), "signaling")
			if !inTransition(s) {
				t.Fatalf("%s: nothing should unblock cat", prof)
			}
		}
	}
}

// --- klp_copy_process ----------------------------------------------------------------------

func TestCopyProcess(t *testing.T) {
	for _, prof := range []string{"4.12", "6.16"} {
		t.Run(prof, func(t *testing.T) {
			s := newSim(t, prof)
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			// outside a transition
			p0 := spawn(t, s, TaskSpec{PID: 1500, Comm: "sh", State: Runnable, Stack: frames("do_syscall_64")})
			c0, err := s.Fork(p0, 1510, "", false)
			must(t, err)
			if c := task(t, s, c0); c.PatchState != Idle || c.PatchPending {
				t.Fatal("fork outside a transition must give IDLE")
			}
			blocked := spawn(t, s, TaskSpec{PID: 1501, Comm: "reader", State: Runnable, Stack: frames("do_syscall_64", "cmdline_proc_show")})
			must(t, s.Insmod("lp"))
			if task(t, s, p0).PatchState != Patched || task(t, s, blocked).PatchState != Unpatched {
				t.Fatal("setup: sh switched, reader blocked")
			}
			cb, err := s.Fork(blocked, 1511, "", true)
			must(t, err)
			cs, err := s.Fork(p0, 1512, "child", false)
			must(t, err)
			if c := task(t, s, cb); c.PatchState != Unpatched || !c.PatchPending || c.TGID != 1501 {
				t.Fatalf("thread of a blocked task: state %d pending %v tgid %d", c.PatchState, c.PatchPending, c.TGID)
			}
			if c := task(t, s, cs); c.PatchState != Patched || c.PatchPending || c.TGID != cs {
				t.Fatalf("child of a switched task: state %d pending %v", c.PatchState, c.PatchPending)
			}
			want := fmt.Sprintf("reader:1501 forked reader:%d (klp_copy_process: patch_state 0, pending true)", cb)
			if eventIndex(s.Events(), EvTask, want) < 0 {
				t.Fatalf("no fork event %q", want)
			}
			if err := stateOK(s); err != nil {
				t.Fatal(err)
			}
			// The child does not sit in the function: the next retry
			// switches it.
			s.AdvanceSeconds(1)
			if task(t, s, cb).PatchState != Patched {
				t.Fatal("the child should switch at the next retry")
			}
		})
	}
}

// --- switch points: kernel exit, timer tick ---------------------------------------------------

func TestKernelExitSwitch(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	u := spawn(t, s, TaskSpec{PID: 1600, Comm: "reader", State: Runnable, Stack: frames("do_syscall_64", "cmdline_proc_show")})
	k := sleeper(t, s, 1601, "kworker", Kthread, Interruptible, "uptime_proc_show")
	must(t, s.Insmod("lp"))
	if task(t, s, u).PatchState != Unpatched {
		t.Fatal("setup: reader blocked")
	}
	s.Ready()
	must(t, s.SyscallExit(u))
	r := s.Ready()
	tk := task(t, s, u)
	if tk.PatchState != Patched || tk.PatchPending || tk.InKernel || len(tk.Stack) != 0 {
		t.Fatalf("after sysret: %+v", tk)
	}
	if eventIndex(r.Events, EvSwitch, "reader:1600 switched to KLP_TRANSITION_PATCHED (kernel exit)") < 0 {
		t.Fatal("no kernel-exit switch event")
	}
	if err := s.SyscallExit(k); err == nil {
		t.Fatal("a kthread cannot return to user space")
	}
}

// A task running in user mode on another CPU is "running" for the check,
// but the timer interrupt's return to user mode switches it at the next
// tick (semantics §8).
func TestUserTaskSwitchesAtTick(t *testing.T) {
	for _, prof := range []string{"4.12", "6.1", "6.16"} {
		t.Run(prof, func(t *testing.T) {
			s := newSim(t, prof)
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			spin := spawn(t, s, TaskSpec{PID: 1700, Comm: "spin", State: Running, CPU: 1, User: true})
			must(t, s.Insmod("lp"))
			if s.prof.CondReschedHook() || s.prof.ScheduleHook() {
				// v6.4+: the hook's text-poke IPI interrupts spin, whose
				// return to user mode switches it before the first
				// attempt; CPU 1's idle task is not running, so its stack
				// check passes, and the insmod completes the transition.
				if hasLineContaining(logTexts(s), "spin:1700 is running") || inTransition(s) {
					t.Fatal("v6.4+: spin must switch at the text poke and the first attempt complete")
				}
				if eventIndex(s.Events(), EvSwitch, "spin:1700 switched to "+s.prof.StateName(Patched)+" (return to user mode after the text-poke IPI)") < 0 {
					t.Fatal("no text-poke switch event")
				}
				return
			}
			if !hasLineContaining(logTexts(s), "klp_try_switch_task: spin:1700 is running") {
				t.Fatal("spin should be running at the first attempt")
			}
			s.Advance(1)
			if tk := task(t, s, spin); tk.PatchState != Patched || tk.PatchPending {
				t.Fatal("the next tick must switch a user-mode task")
			}
			if eventIndex(s.Events(), EvSwitch, "spin:1700 switched to "+s.prof.StateName(Patched)+" (return to user mode after the timer interrupt)") < 0 {
				t.Fatal("no tick switch event")
			}
			settle(t, s)
			if at := logTime(s, "livepatch: 'lp': patching complete"); at != 832e6 {
				t.Fatalf("completed at %d ns, want the first retry (0.832 s: 0.816 s rounded up to the wheel's bucket)", at)
			}
		})
	}
}

func TestSigstopExitOrder(t *testing.T) {
	// v4.16 moved klp_update_patch_state before do_signal: the task
	// switches before it stops. Before, it stops unswitched and switches
	// when continued.
	for _, tc := range []struct {
		prof         string
		switchOnStop bool
	}{{"4.15", false}, {"4.16", true}, {"6.16", true}} {
		t.Run(tc.prof, func(t *testing.T) {
			s := newSim(t, tc.prof)
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			u := sleeper(t, s, 1800, "cat", UserTask, Interruptible, "cmdline_proc_show")
			must(t, s.Insmod("lp"))
			must(t, s.Kill(u, "STOP"))
			tk := task(t, s, u)
			if tk.State != Stopped {
				t.Fatalf("state %s after SIGSTOP", tk.State)
			}
			if (tk.PatchState == Patched) != tc.switchOnStop {
				t.Fatalf("switched on stop = %v, want %v", tk.PatchState == Patched, tc.switchOnStop)
			}
			must(t, s.Kill(u, "CONT"))
			tk = task(t, s, u)
			if tk.PatchState != Patched || tk.State != Interruptible {
				t.Fatalf("after SIGCONT: state %d %s", tk.PatchState, tk.State)
			}
			if s.Code(tk.Stack[2].Code).Name != "lp_cmdline_proc_show" {
				t.Fatal("the restarted syscall must run the new version")
			}
		})
	}
}

// --- scheduler hooks ------------------------------------------------------------------------

func TestSchedulerHooks(t *testing.T) {
	for _, tc := range []struct {
		prof   string
		action string // "cond_resched", "sleep-freezable", "sleep"
		inFunc bool   // the patched function is on the kthread's stack
		want   bool   // switched by the action itself
	}{
		{"6.3", "cond_resched", false, false},
		{"6.4", "cond_resched", false, true},
		{"6.10", "cond_resched", false, true},
		{"6.15", "cond_resched", false, true},
		{"6.4", "cond_resched", true, false},
		{"6.16", "cond_resched", false, false},
		{"6.15", "sleep-freezable", false, false},
		{"6.16", "sleep-freezable", false, true},
		{"6.16", "sleep-freezable", true, false},
		{"6.16", "sleep", false, false},
	} {
		t.Run(fmt.Sprintf("%s/%s/infunc=%v", tc.prof, tc.action, tc.inFunc), func(t *testing.T) {
			s := newSim(t, tc.prof)
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			st := frames("kthread", "worker_thread")
			if tc.inFunc {
				st = frames("kthread", "worker_thread", "cmdline_proc_show")
			}
			k := spawn(t, s, TaskSpec{PID: 1900, Comm: "kbusy", Kind: Kthread, State: Running, CPU: 1, Stack: st})
			must(t, s.Insmod("lp"))
			if task(t, s, k).PatchState != Unpatched {
				t.Fatal("setup: the running kthread blocks")
			}
			s.Ready()
			switch tc.action {
			case "cond_resched":
				must(t, s.CondResched(k))
			case "sleep-freezable":
				must(t, s.Sleep(k, false, true))
			case "sleep":
				must(t, s.Sleep(k, false, false))
			}
			r := s.Ready()
			if got := task(t, s, k).PatchState == Patched; got != tc.want {
				t.Fatalf("switched = %v, want %v", got, tc.want)
			}
			if tc.inFunc {
				// The hook checked the task's own stack and says why.
				if !hasLineContaining(texts(r.Log), "klp_try_switch_task: kbusy:1900 is sleeping on function cmdline_proc_show") {
					t.Fatalf("hook must print the check's verdict: %v", texts(r.Log))
				}
			}
			if tc.want {
				how := "(cond_resched hook)"
				if tc.action != "cond_resched" {
					how = "(scheduler hook)"
				}
				if eventIndex(r.Events, EvSwitch, "kbusy:1900 switched to "+s.prof.StateName(Patched)+" "+how) < 0 {
					t.Fatal("no hook switch event")
				}
			}
		})
	}
	// Outside a transition the hook does nothing.
	s := newSim(t, "6.10")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	k := spawn(t, s, TaskSpec{PID: 1900, Comm: "kbusy", Kind: Kthread, State: Running, CPU: 1, Stack: frames("kthread")})
	must(t, s.CondResched(k))
	if eventIndex(s.Events(), EvTask, "kbusy:1900 calls cond_resched(): no livepatch hook acts here") < 0 {
		t.Fatal("cond_resched outside a transition should be a no-op")
	}
}

// --- round_jiffies_relative -------------------------------------------------------------------

func TestRoundJiffiesFirstRetry(t *testing.T) {
	// round_jiffies_relative(HZ) puts the expiry on a whole second; the
	// timer wheel then runs it at the end of the bucket that second falls
	// in: level 1 (granularity 8) for a delay of 63..503 jiffies, level 2
	// (64) for 504..4031.
	for _, tc := range []struct {
		hz      int
		gran    int64
		firstNs int64 // first retry after boot, transition started at jiffy 0
	}{
		{100, 8, 1120e6},     // INITIAL_JIFFIES%100 = 96: round up, 104 jiffies; %8 = 0: +8
		{250, 8, 832e6},      // %250 = 46 < 62: round down, 204 jiffies; +4 to the bucket
		{300, 8, 1359999864}, // %300 = 196: round up, 404 jiffies; +4; jiffies of 3333333 ns
		{1000, 64, 1760e6},   // %1000 = 296: round up, 1704 jiffies (level 2); +56
	} {
		t.Run(fmt.Sprint(tc.hz), func(t *testing.T) {
			s := newSim(t, "6.16", withHZ(tc.hz))
			if s.Jiffies() != 1<<32-uint64(300*tc.hz) {
				t.Fatalf("INITIAL_JIFFIES = %d", s.Jiffies())
			}
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			sleeper(t, s, 2000, "dd", UserTask, Uninterruptible, "cmdline_proc_show")
			must(t, s.Insmod("lp"))
			onBucket := func(w int64) {
				t.Helper()
				if past := w % int64(tc.hz); w%tc.gran != 0 || past == 0 || past > tc.gran {
					t.Fatalf("retry at jiffy %d: not the end of the wheel bucket after a whole second (%d past it, granularity %d)", w, past, tc.gran)
				}
			}
			w := s.NextWork()
			onBucket(w)
			if got := s.jifToNs(uint64(w)); got != tc.firstNs {
				t.Fatalf("first retry %d ns after boot, want %d", got, tc.firstNs)
			}
			// Later retries: a second apart give or take the bucket, each
			// at the end of the bucket after a whole second.
			var times []int64
			for i := 0; i < 3; i++ {
				s.Advance(uint64(s.NextWork()) - s.Jiffies())
				times = append(times, int64(s.Jiffies()))
				onBucket(s.NextWork())
			}
			for i := 1; i < len(times); i++ {
				if d := times[i] - times[i-1]; d < int64(tc.hz)-tc.gran || d > int64(tc.hz)+tc.gran {
					t.Fatalf("retry jiffies %v, want about %d apart", times, tc.hz)
				}
			}
		})
	}
}

// TestWheelExpiry: calc_wheel_index and calc_index by hand.
func TestWheelExpiry(t *testing.T) {
	for _, tc := range []struct {
		now, expires, want uint64
		lvl                int
	}{
		{1000, 1000, 1001, 0}, // level 0 still rounds past the expiry
		{1000, 1062, 1063, 0}, // delta 62: the last of level 0
		{1000, 1063, 1064, 1}, // delta 63: level 1, to the next multiple of 8
		{1000, 1064, 1072, 1}, // a multiple of 8 goes to the next one
		{1000, 1503, 1504, 1}, // delta 503: the last of level 1
		{1000, 1504, 1536, 2}, // delta 504: level 2, granularity 64
		{0, 4031, 4032, 2},    // the last of level 2
		{0, 4032, 4096, 3},    // level 3, granularity 512
	} {
		got, lvl := wheelExpiry(tc.now, tc.expires)
		if got != tc.want || lvl != tc.lvl {
			t.Errorf("wheelExpiry(%d, %d) = %d, level %d; want %d, level %d", tc.now, tc.expires, got, lvl, tc.want, tc.lvl)
		}
	}
}

func TestRoundJiffiesRelativeFormula(t *testing.T) {
	for _, hz := range []int{100, 250, 300, 1000} {
		s := newSim(t, "6.16", withHZ(hz), withCPUs(8))
		base := s.jiffies
		for j0 := uint64(0); j0 < uint64(3*hz); j0 += 7 {
			for cpu := 0; cpu < 8; cpu++ {
				s.jiffies = base + j0
				d := s.roundJiffiesRelative(uint64(hz), cpu)
				// rem < HZ/4 rounds down (d = HZ-rem), else up (2HZ-rem)
				if d <= uint64(hz-hz/4) || d > uint64(2*hz-hz/4) {
					t.Fatalf("HZ=%d j0=%d cpu=%d: delay %d outside (HZ-HZ/4, 2HZ-HZ/4]", hz, j0, cpu, d)
				}
				if (s.jiffies+d+uint64(3*cpu))%uint64(hz) != 0 {
					t.Fatalf("HZ=%d j0=%d cpu=%d: expiry not on the CPU's skewed second", hz, j0, cpu)
				}
			}
		}
	}
}

// --- modules coming and going (semantics §7, §11) ------------------------------------------

func TestModuleComingDuringTransition(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, targetMod("tmod", "tmod_fn"), withCallbacks(lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"), obj("tmod", "lp", "tmod_fn"))))
	b := sleeper(t, s, 2100, "blocker", UserTask, Uninterruptible, "cmdline_proc_show")
	old := spawn(t, s, TaskSpec{PID: 2101, Comm: "old", State: Runnable, Stack: frames("do_syscall_64", "cmdline_proc_show")})
	sw := spawn(t, s, TaskSpec{PID: 2102, Comm: "new", State: Runnable, Stack: frames("do_syscall_64")})
	must(t, s.Insmod("lp"))
	if got := read(t, s, lpPath("lp", "tmod", "patched")); got != "0\n" {
		t.Fatalf("tmod/patched = %q before tmod loads", got)
	}
	noLineContaining(t, logTexts(s), "pre_patch_callback: tmod")
	s.Ready()
	must(t, s.Insmod("tmod"))
	got := texts(s.Ready().Log)
	inOrder(t, got,
		"livepatch: applying patch 'lp' to loading module 'tmod'",
		"lp: pre_patch_callback: tmod -> [MODULE_STATE_COMING] Full formed, running module_init",
		"tmod: tmod_init")
	noLineContaining(t, got, "post_patch")
	if got := read(t, s, lpPath("lp", "tmod", "patched")); got != "1\n" {
		t.Fatalf("tmod/patched = %q after load", got)
	}
	// Per-task selection applies to the new functions at once.
	must(t, s.Return(old))
	must(t, s.Call(old, "tmod_fn", 0))
	must(t, s.Call(sw, "tmod_fn", 0))
	if task(t, s, old).PatchState != Unpatched || task(t, s, sw).PatchState != Patched {
		t.Fatal("setup: old unswitched, new switched")
	}
	if st := task(t, s, old).Stack; s.Code(st[len(st)-1].Code).Name != "tmod_fn" {
		t.Fatal("an unswitched task must run the original tmod_fn")
	}
	if st := task(t, s, sw).Stack; s.Code(st[len(st)-1].Code).Name != "lp_tmod_fn" {
		t.Fatal("a switched task must run lp_tmod_fn")
	}
	must(t, s.SyscallExit(sw))
	// The blocker leaves; the transition completes with post_patch for
	// both objects.
	must(t, s.Wake(b))
	must(t, s.SyscallExit(b))
	must(t, s.SyscallExit(old))
	settle(t, s)
	inOrder(t, texts(s.Ready().Log),
		"livepatch: 'lp': completing patching transition",
		"lp: post_patch_callback: vmlinux",
		"lp: post_patch_callback: tmod -> [MODULE_STATE_LIVE] Normal state",
		"livepatch: 'lp': patching complete")
	u := spawn(t, s, TaskSpec{PID: 2103, Comm: "u", State: Runnable, Stack: frames("do_syscall_64")})
	must(t, s.Call(u, "tmod_fn", 0))
	if st := task(t, s, u).Stack; s.Code(st[len(st)-1].Code).Name != "lp_tmod_fn" {
		t.Fatal("after completion every call runs lp_tmod_fn")
	}
}

func TestModuleGoingDuringTransition(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, targetMod("tmod", "tmod_fn"), withCallbacks(lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"), obj("tmod", "lp", "tmod_fn"))))
	must(t, s.Insmod("tmod"))
	must(t, s.Insmod("lp"))
	settle(t, s)
	sleeper(t, s, 2200, "blocker", UserTask, Uninterruptible, "lp_cmdline_proc_show")
	must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
	inOrder(t, logTexts(s), "lp: pre_unpatch_callback: tmod -> [MODULE_STATE_LIVE] Normal state")
	s.Ready()
	must(t, s.Rmmod("tmod"))
	got := texts(s.Ready().Log)
	// After the module's exit; no pre_unpatch for the transition patch.
	want := []string{
		"tmod: tmod_exit",
		"livepatch: reverting patch 'lp' on unloading module 'tmod'",
		"lp: post_unpatch_callback: tmod -> [MODULE_STATE_GOING] Going away",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rmmod during the transition logged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := read(t, s, lpPath("lp", "tmod", "patched")); got != "0\n" {
		t.Fatalf("tmod/patched = %q after rmmod", got)
	}
	if !inTransition(s) {
		t.Fatal("module removal must not end the transition")
	}
	must(t, s.WriteFile(lpPath("lp", "force"), "1\n"))
	settle(t, s)
	got = logTexts(s)
	if c := count(got, "lp: post_unpatch_callback: tmod -> [MODULE_STATE_GOING] Going away"); c != 1 {
		t.Fatalf("post_unpatch for tmod ran %d times", c)
	}
	inOrder(t, got, "livepatch: 'lp': completing unpatching transition", "lp: post_unpatch_callback: vmlinux", "livepatch: 'lp': unpatching complete")
}

func TestModuleComingAndGoingIdlePatch(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, targetMod("tmod", "tmod_fn"), withCallbacks(lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"), obj("tmod", "lp", "tmod_fn"))))
	must(t, s.Insmod("lp"))
	settle(t, s)
	s.Ready()
	must(t, s.Insmod("tmod"))
	want := []string{
		"livepatch: applying patch 'lp' to loading module 'tmod'",
		"lp: pre_patch_callback: tmod -> [MODULE_STATE_COMING] Full formed, running module_init",
		"lp: post_patch_callback: tmod -> [MODULE_STATE_COMING] Full formed, running module_init",
		"tmod: tmod_init",
	}
	if got := texts(s.Ready().Log); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("insmod logged:\n%s", strings.Join(got, "\n"))
	}
	must(t, s.Rmmod("tmod"))
	want = []string{
		"tmod: tmod_exit",
		"lp: pre_unpatch_callback: tmod -> [MODULE_STATE_GOING] Going away",
		"livepatch: reverting patch 'lp' on unloading module 'tmod'",
		"lp: post_unpatch_callback: tmod -> [MODULE_STATE_GOING] Going away",
	}
	if got := texts(s.Ready().Log); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rmmod logged:\n%s", strings.Join(got, "\n"))
	}
}

// A module that loads during an unpatching transition is still applied,
// then removed at completion (post_unpatch runs; semantics §11).
func TestModuleComingDuringUnpatching(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, targetMod("tmod", "tmod_fn"), withCallbacks(lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"), obj("tmod", "lp", "tmod_fn"))))
	must(t, s.Insmod("lp"))
	settle(t, s)
	b := sleeper(t, s, 2300, "blocker", UserTask, Uninterruptible, "lp_cmdline_proc_show")
	must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
	s.Ready()
	must(t, s.Insmod("tmod"))
	got := texts(s.Ready().Log)
	inOrder(t, got, "livepatch: applying patch 'lp' to loading module 'tmod'", "lp: pre_patch_callback: tmod -> [MODULE_STATE_COMING] Full formed, running module_init", "tmod: tmod_init")
	noLineContaining(t, got, "post_patch")
	must(t, s.Wake(b))
	must(t, s.SyscallExit(b))
	settle(t, s)
	inOrder(t, texts(s.Ready().Log), "lp: post_unpatch_callback: vmlinux", "lp: post_unpatch_callback: tmod -> [MODULE_STATE_LIVE] Normal state", "livepatch: 'lp': unpatching complete")
	if len(s.View().FuncStacks) != 0 {
		t.Fatal("tmod_fn still patched after unpatching completed")
	}
}

// --- only one transition at a time ---------------------------------------------------------

func TestSecondTransitionEBUSY(t *testing.T) {
	for _, prof := range []string{"4.15", "6.16"} {
		t.Run(prof, func(t *testing.T) {
			s := newSim(t, prof)
			addMods(t, s, lp("lp0", obj("vmlinux", "lp0", "uptime_proc_show")), lp("lp1", obj("vmlinux", "lp1", "cmdline_proc_show")), lp("lp2", obj("vmlinux", "lp2", "meminfo_proc_show")))
			must(t, s.Insmod("lp0"))
			settle(t, s)
			sleeper(t, s, 2400, "blocker", UserTask, Uninterruptible, "cmdline_proc_show")
			must(t, s.Insmod("lp1"))
			s.Ready()
			wantErrno(t, "insmod lp2", s.Insmod("lp2"), EBUSY)
			got := texts(s.Ready().Log)
			noLineContaining(t, got, "livepatch:")
			if s.ModuleState("lp2") != ModUnloaded {
				t.Fatal("lp2 must not stay loaded")
			}
			if ok, _, _ := s.Stat(lpPath("lp2")); ok {
				t.Fatal("lp2's directory must be removed")
			}
			var fe *FSError
			err := s.WriteFile(lpPath("lp0", "enabled"), "0\n")
			if !errorsAs(err, &fe) || fe.Op != "write" || fe.Err != EBUSY {
				t.Fatalf("disabling lp0 during lp1's transition: %v, want write EBUSY", err)
			}
			if read(t, s, lpPath("lp0", "enabled")) != "1\n" {
				t.Fatal("a refused write must change nothing")
			}
			if p, _ := s.InTransition(); p != "lp1" {
				t.Fatalf("transition patch %q", p)
			}
		})
	}
}

// Before v5.1: only the topmost enabled patch may be disabled and only the
// first disabled one enabled.
func TestRegistrationStacking(t *testing.T) {
	s := newSim(t, "4.15")
	addMods(t, s, lp("lp1", obj("vmlinux", "lp1", "cmdline_proc_show")), lp("lp2", obj("vmlinux", "lp2", "meminfo_proc_show")))
	must(t, s.Insmod("lp1"))
	settle(t, s)
	must(t, s.Insmod("lp2"))
	settle(t, s)
	wantErrno(t, "disable lp1 under lp2", s.WriteFile(lpPath("lp1", "enabled"), "0\n"), EBUSY)
	must(t, s.WriteFile(lpPath("lp2", "enabled"), "0\n"))
	settle(t, s)
	must(t, s.WriteFile(lpPath("lp1", "enabled"), "0\n"))
	settle(t, s)
	wantErrno(t, "enable lp2 above disabled lp1", s.WriteFile(lpPath("lp2", "enabled"), "1\n"), EBUSY)
	must(t, s.WriteFile(lpPath("lp1", "enabled"), "1\n"))
	settle(t, s)
}

// --- sysfs ----------------------------------------------------------------------------------

func TestKstrtobool(t *testing.T) {
	type res int
	const (
		T res = iota
		F
		E // EINVAL
	)
	profs := []string{"4.12", "5.18", "5.19", "6.15", "6.16"}
	for _, tc := range []struct {
		in   string
		want []res // per profile above
	}{
		{"1\n", []res{T, T, T, T, T}},
		{"0\n", []res{F, F, F, F, F}},
		{"y", []res{T, T, T, T, T}},
		{"Yes\n", []res{T, T, T, T, T}},
		{"N\n", []res{F, F, F, F, F}},
		{"on\n", []res{T, T, T, T, T}},
		{"ON", []res{T, T, T, T, T}},
		{"off\n", []res{F, F, F, F, F}},
		{"oF", []res{F, F, F, F, F}},
		{"1abc", []res{T, T, T, T, T}},
		{"true\n", []res{E, E, T, T, T}},
		{"False", []res{E, E, F, F, F}},
		{"enable\n", []res{E, E, E, E, T}},
		{"disable\n", []res{E, E, E, E, F}},
		{"2\n", []res{E, E, E, E, E}},
		{"-1\n", []res{E, E, E, E, E}},
		{" 1\n", []res{E, E, E, E, E}},
		{"\n", []res{E, E, E, E, E}},
		{"o", []res{E, E, E, E, E}},
		{"o\n", []res{E, E, E, E, E}},
		{"ox", []res{E, E, E, E, E}},
	} {
		for i, prof := range profs {
			s := newSim(t, prof)
			v, err := s.kstrtobool(tc.in)
			got := F
			switch {
			case err != nil:
				got = E
				if err != EINVAL {
					t.Fatalf("%s %q: error %v, want EINVAL", prof, tc.in, err)
				}
			case v:
				got = T
			}
			if got != tc.want[i] {
				t.Errorf("%s: kstrtobool(%q) = %v, want %v (0=true 1=false 2=EINVAL)", prof, tc.in, got, tc.want[i])
			}
		}
	}
}

func TestEnabledWrites(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	must(t, s.Insmod("lp"))
	settle(t, s)
	for _, tc := range []struct {
		data string
		op   string
		err  Errno
	}{
		{"1\n", "write", EINVAL}, // already enabled
		{"y", "write", EINVAL},
		{"enable\n", "write", EINVAL},
		{"2\n", "write", EINVAL},
		{"\n", "write", EINVAL},
	} {
		err := s.WriteFile(lpPath("lp", "enabled"), tc.data)
		var fe *FSError
		if !errorsAs(err, &fe) || fe.Op != tc.op || fe.Err != tc.err {
			t.Fatalf("write %q: %v, want %s %s", tc.data, err, tc.op, tc.err.Name())
		}
	}
	wantErrno(t, "empty write", s.WriteFile(lpPath("lp", "enabled"), ""), 0)
	if inTransition(s) || read(t, s, lpPath("lp", "enabled")) != "1\n" {
		t.Fatal("refused writes changed the state")
	}
	// "disable" parses as false from v6.16 on.
	must(t, s.WriteFile(lpPath("lp", "enabled"), "disable\n"))
	if read(t, s, lpPath("lp", "enabled")) != "0\n" {
		t.Fatal("disable not accepted")
	}
}

func TestSysfsAttributes(t *testing.T) {
	for _, tc := range []struct {
		prof    string
		entries string
		obj     string
	}{
		{"4.12", "enabled transition vmlinux", "cmdline_proc_show,1"},
		{"4.15", "enabled transition vmlinux", "cmdline_proc_show,1"},
		{"4.16", "enabled force signal transition vmlinux", "cmdline_proc_show,1"},
		{"5.1", "enabled force transition vmlinux", "cmdline_proc_show,1"},
		{"6.1", "enabled force transition vmlinux", "cmdline_proc_show,1 patched"},
		{"6.11", "enabled force replace transition vmlinux", "cmdline_proc_show,1 patched"},
		{"6.14", "enabled force replace stack_order transition vmlinux", "cmdline_proc_show,1 patched"},
		{"6.16", "enabled force replace stack_order transition vmlinux", "cmdline_proc_show,1 patched"},
	} {
		t.Run(tc.prof, func(t *testing.T) {
			s := newSim(t, tc.prof)
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			must(t, s.Insmod("lp"))
			settle(t, s)
			names := func(p string) string {
				es, err := s.ReadDir(p)
				must(t, err)
				var n []string
				for _, e := range es {
					n = append(n, e.Name)
				}
				return strings.Join(n, " ")
			}
			if got := names(lpPath("lp")); got != tc.entries {
				t.Fatalf("ls lp = %q, want %q", got, tc.entries)
			}
			if got := names(lpPath("lp", "vmlinux")); got != tc.obj {
				t.Fatalf("ls lp/vmlinux = %q, want %q", got, tc.obj)
			}
			modes := map[string]string{"enabled": "-rw-r--r--", "transition": "-r--r--r--", "force": "--w-------", "signal": "--w-------", "replace": "-r--r--r--", "stack_order": "-r--r--r--"}
			for _, a := range strings.Fields(tc.entries) {
				if a == "vmlinux" {
					continue
				}
				_, _, mode := s.Stat(lpPath("lp", a))
				if mode != modes[a] {
					t.Fatalf("%s mode %s, want %s", a, mode, modes[a])
				}
				var fe *FSError
				switch modes[a] {
				case "-r--r--r--":
					if err := s.WriteFile(lpPath("lp", a), "1\n"); !errorsAs(err, &fe) || fe.Op != "open" || fe.Err != EACCES {
						t.Fatalf("write to %s: %v, want open EACCES", a, err)
					}
				case "--w-------":
					if _, err := s.ReadFile(lpPath("lp", a)); !errorsAs(err, &fe) || fe.Op != "open" || fe.Err != EACCES {
						t.Fatalf("read of %s: %v, want open EACCES", a, err)
					}
				}
			}
			if s.prof.PatchedAttr() {
				var fe *FSError
				if err := s.WriteFile(lpPath("lp", "vmlinux", "patched"), "0\n"); !errorsAs(err, &fe) || fe.Err != EACCES {
					t.Fatalf("write to patched: %v", err)
				}
				if read(t, s, lpPath("lp", "vmlinux", "patched")) != "1\n" {
					t.Fatal("vmlinux/patched should read 1")
				}
			}
			if s.prof.ReplaceAttr() && read(t, s, lpPath("lp", "replace")) != "0\n" {
				t.Fatal("replace should read 0")
			}
			if read(t, s, lpPath("lp", "transition")) != "0\n" || read(t, s, lpPath("lp", "enabled")) != "1\n" {
				t.Fatal("enabled/transition values")
			}
		})
	}
}

func TestStackOrderAndReplaceValue(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s,
		lp("lp1", obj("vmlinux", "lp1", "cmdline_proc_show")),
		lp("lp2", obj("vmlinux", "lp2", "meminfo_proc_show")),
		lp("lp3", obj("vmlinux", "lp3", "cmdline_proc_show")),
		lpReplace("lp4", obj("vmlinux", "lp4", "uptime_proc_show")))
	// a reader in uptime_proc_show keeps lp4's transition open until the
	// fake signal
	sleeper(t, s, 990, "uptime", UserTask, Interruptible, "uptime_proc_show")
	for _, p := range []string{"lp1", "lp2", "lp3"} {
		must(t, s.Insmod(p))
		settle(t, s)
	}
	for i, p := range []string{"lp1", "lp2", "lp3"} {
		if got := read(t, s, lpPath(p, "stack_order")); got != fmt.Sprintf("%d\n", i+1) {
			t.Fatalf("%s stack_order %q", p, got)
		}
	}
	must(t, s.WriteFile(lpPath("lp2", "enabled"), "0\n"))
	// during its unpatching transition lp2 is still on the list
	if got := read(t, s, lpPath("lp2", "stack_order")); got != "2\n" {
		t.Fatalf("lp2 stack_order during unpatching %q", got)
	}
	settle(t, s)
	if read(t, s, lpPath("lp1", "stack_order")) != "1\n" || read(t, s, lpPath("lp3", "stack_order")) != "2\n" {
		t.Fatal("positions must close up after lp2 is freed")
	}
	must(t, s.Insmod("lp4"))
	if read(t, s, lpPath("lp4", "replace")) != "1\n" || read(t, s, lpPath("lp4", "stack_order")) != "3\n" {
		t.Fatal("lp4: replace 1, stack_order 3 during its transition")
	}
	must(t, s.Exit(990))
	settle(t, s)
	if read(t, s, lpPath("lp4", "stack_order")) != "1\n" {
		t.Fatal("after the replace lp4 is the only patch")
	}
	es, err := s.ReadDir("/sys/kernel/livepatch")
	must(t, err)
	if len(es) != 1 || es[0].Name != "lp4" {
		t.Fatalf("livepatch dir = %v", es)
	}
}

func TestPatchedAttrFollowsModule(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, targetMod("tmod", "tmod_fn"), lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"), obj("tmod", "lp", "tmod_fn")))
	must(t, s.Insmod("lp"))
	settle(t, s)
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { return nil }, "0\n"},
		{func() error { return s.Insmod("tmod") }, "1\n"},
		{func() error { return s.Rmmod("tmod") }, "0\n"},
		{func() error { return s.Insmod("tmod") }, "1\n"},
	}
	for i, st := range steps {
		must(t, st.do())
		if got := read(t, s, lpPath("lp", "tmod", "patched")); got != st.want {
			t.Fatalf("step %d: tmod/patched = %q, want %q", i, got, st.want)
		}
	}
	if ok, dir, _ := s.Stat(lpPath("lp", "tmod", "tmod_fn,1")); !ok || !dir {
		t.Fatal("function directory missing")
	}
	if _, err := s.ReadFile("/proc/1/patch_state"); err == nil {
		t.Fatal("no task 1")
	}
}

func TestProcPatchState(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	a := sleeper(t, s, 2500, "a", UserTask, Uninterruptible, "cmdline_proc_show")
	b := sleeper(t, s, 2501, "b", UserTask, Interruptible, "uptime_proc_show")
	for _, p := range []int{a, b} {
		if got := read(t, s, fmt.Sprintf("/proc/%d/patch_state", p)); got != "-1\n" {
			t.Fatalf("patch_state before = %q", got)
		}
	}
	must(t, s.Insmod("lp"))
	if read(t, s, "/proc/2500/patch_state") != "0\n" || read(t, s, "/proc/2501/patch_state") != "1\n" {
		t.Fatal("patch_state during patching")
	}
	if _, _, mode := s.Stat("/proc/2500/patch_state"); mode != "-r--------" {
		t.Fatalf("patch_state mode %s", mode)
	}
}

// --- the consistency checker ----------------------------------------------------------------

func TestConsistencyChecker(t *testing.T) {
	setup := func(t *testing.T) (*Sim, int) {
		s := newSim(t, "6.16")
		addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show", "meminfo_proc_show")))
		d := spawn(t, s, TaskSpec{PID: 2600, Comm: "dd", State: Uninterruptible, Stack: frames("do_syscall_64", "cmdline_proc_show", "schedule")})
		return s, d
	}
	t.Run("no-force-no-alarm", func(t *testing.T) {
		s, d := setup(t)
		must(t, s.Insmod("lp"))
		s.AdvanceSeconds(3)
		// The unswitched task keeps running old code for both functions.
		must(t, s.Wake(d))
		must(t, s.Return(d))
		must(t, s.Call(d, "meminfo_proc_show", 0))
		st := task(t, s, d).Stack
		if s.Code(st[len(st)-1].Code).Name != "meminfo_proc_show" {
			t.Fatal("an unswitched task runs the original")
		}
		must(t, s.SyscallExit(d))
		must(t, s.Call(d, "cmdline_proc_show", 0))
		must(t, s.Call(d, "meminfo_proc_show", 0))
		settle(t, s)
		if s.Alarms() != 0 || len(eventsOf(s.Events(), EvAlarm)) != 0 {
			t.Fatal("alarm without force")
		}
	})
	t.Run("force-then-other-function-alarms", func(t *testing.T) {
		s, d := setup(t)
		must(t, s.Insmod("lp"))
		must(t, s.WriteFile(lpPath("lp", "force"), "1\n"))
		if eventIndex(s.Events(), EvSwitch, "dd:2600 switched to KLP_TRANSITION_PATCHED (forced while sleeping on function cmdline_proc_show: consistency no longer guaranteed)") < 0 {
			t.Fatal("no forced switch event")
		}
		must(t, s.Wake(d))
		must(t, s.Run(d, 1))
		if s.Alarms() != 0 {
			t.Fatal("alarm before the mixed call")
		}
		// unrelated call: no alarm
		must(t, s.Call(d, "uptime_proc_show", 0))
		must(t, s.Return(d))
		if s.Alarms() != 0 {
			t.Fatal("alarm for an unrelated function")
		}
		must(t, s.Call(d, "meminfo_proc_show", 0))
		if s.Alarms() != 1 {
			t.Fatalf("alarms = %d, want 1", s.Alarms())
		}
		al := eventsOf(s.Events(), EvAlarm)
		if len(al) != 1 || al[0].PID != d || al[0].Patch != "lp" || !strings.Contains(al[0].Text, "runs lp's meminfo_proc_show and an older cmdline_proc_show") {
			t.Fatalf("alarm events %+v", al)
		}
		if s.Warnings() != 0 {
			t.Fatal("no WARN expected")
		}
	})
}

// check_modinfo_livepatch: the taint notice is pr_notice_once and only for
// modules with the livepatch modinfo flag; a module without it is refused
// by klp_enable_patch (C15).
func TestTaintNotice(t *testing.T) {
	s := newSim(t, "6.16")
	bad := lp("notlp", obj("vmlinux", "notlp", "cmdline_proc_show"))
	bad.NotLivepatch = true
	addMods(t, s, bad, lp("lp1", obj("vmlinux", "lp1", "cmdline_proc_show")), lp("lp2", obj("vmlinux", "lp2", "meminfo_proc_show")))
	wantErrno(t, "insmod notlp", s.Insmod("notlp"), EINVAL)
	if got := logTexts(s); len(got) != 1 || got[0] != "livepatch: module notlp is not marked as a livepatch module" || s.Log()[0].Level != LevelErr {
		t.Fatalf("log = %v", got)
	}
	must(t, s.Insmod("lp1"))
	settle(t, s)
	must(t, s.Insmod("lp2"))
	var taint []LogLine
	for _, l := range s.Log() {
		if strings.Contains(l.Text, "tainting kernel") {
			taint = append(taint, l)
		}
	}
	if len(taint) != 1 || taint[0].Text != "lp1: tainting kernel with TAINT_LIVEPATCH" || taint[0].Level != LevelNotice {
		t.Fatalf("taint lines = %+v, want one notice for lp1", taint)
	}
}

// TestCleanStack covers the unrolled frame scan: every stack length around
// the unrolling, with the checked function at every position or nowhere.
func TestCleanStack(t *testing.T) {
	table := []int32{-1, -1, 0, -1} // code 2 is checked
	for n := 0; n <= 9; n++ {
		for hit := -1; hit < n; hit++ {
			st := make([]Frame, n)
			for i := range st {
				st[i].Code = CodeID(i % 2) // unchecked codes 0 and 1
			}
			if hit >= 0 {
				st[hit].Code = 2
			}
			if got, want := cleanStack(st, table), hit < 0; got != want {
				t.Errorf("%d frames, checked function at %d: cleanStack = %v, want %v", n, hit, got, want)
			}
		}
	}
}

// TestRunUntil: time runs until the first new event of the kind asked
// for and stops in the jiffy it happened; without one, until the limit.
func TestRunUntil(t *testing.T) {
	kind := func(k EventKind) func(Event) bool { return func(e Event) bool { return e.Kind == k } }
	tests := []struct {
		name      string
		state     TaskState
		match     func(Event) bool
		limit     uint64 // jiffies (HZ=250)
		found     bool
		atSeconds float64 // simulated time at the stop, ±1 s
	}{
		{"fake signal after 15 retries", Interruptible, kind(EvSignal), 60 * 250, true, 15.8},
		{"the switch it causes", Interruptible, func(e Event) bool { return e.Kind == EvSwitch && e.PID == 200 }, 60 * 250, true, 15.8},
		{"none within the limit", Uninterruptible, kind(EvAlarm), 5 * 250, false, 5},
		{"uninterruptible sleepers get no switch", Uninterruptible, func(e Event) bool { return e.Kind == EvSwitch && e.PID == 200 }, 40 * 250, false, 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, "6.16")
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			sleeper(t, s, 200, "cat", UserTask, tc.state, "cmdline_proc_show")
			must(t, s.Insmod("lp"))
			start := s.Now()
			before := len(s.Events())
			e, ok := s.RunUntil(tc.limit, tc.match)
			if ok != tc.found {
				t.Fatalf("found = %v, want %v (event %+v)", ok, tc.found, e)
			}
			at := float64(s.Now()-start) / 1e9
			if at < tc.atSeconds-1 || at > tc.atSeconds+1 {
				t.Fatalf("stopped after %.3f s, want about %.1f s", at, tc.atSeconds)
			}
			if !ok {
				return
			}
			if !tc.match(e) || e.Seq < before {
				t.Fatalf("returned %+v, which does not match or is older than the call", e)
			}
			if s.Now()-e.Time >= 1e9/250 {
				t.Fatalf("event at %d ns, stopped at %d ns: more than a jiffy later", e.Time, s.Now())
			}
		})
	}
}

// TestNextSignalPredicted: the view's countdown to the automatic fake
// signal names the jiffy the signal comes at, each retry on the way
// rounded by round_jiffies_relative and the timer wheel.
func TestNextSignalPredicted(t *testing.T) {
	for _, hz := range []int{100, 250, 1000} {
		s := newSim(t, "6.16", withHZ(hz))
		addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
		sleeper(t, s, 200, "cat", UserTask, Interruptible, "cmdline_proc_show")
		must(t, s.Insmod("lp"))
		s.AdvanceSeconds(3.3) // a few retries in
		want := s.View().Transition.NextSignal
		s.AdvanceSeconds(20)
		if got := logTime(s, "livepatch: signaling remaining tasks"); got != want || got < 0 {
			t.Errorf("HZ=%d: the view predicted the fake signal at %d ns, it came at %d", hz, want, got)
		}
	}
}
