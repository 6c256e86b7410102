package sim

import (
	"fmt"
	"slices"
	"strings"
)

// The RCU Tasks grace period that ends an unpatching transition.
//
// klp_complete_transition unpatches the objects first; when a function's
// func_stack empties, klp_unpatch_func unregisters its ftrace ops, and
// ftrace_shutdown of a DYNAMIC ops (livepatch's are) waits for every task
// that might still be on the ops' trampoline: synchronize_rcu_tasks_rude()
// and, with CONFIG_PREEMPTION (what distribution kernels build),
// synchronize_rcu_tasks(). All that time klp_mutex is held. So on a real
// box "unpatching complete" comes tenths of a second after "completing
// unpatching transition", and in between `enabled` reads 0 while
// `transition` still reads 1 and tasks keep their patch_state.
//
// RCU Tasks (kernel/rcu/tasks.h) ends a grace period when every task that
// was on a runqueue in the kernel at its start has passed a quiescent
// state: a voluntary context switch (sleeping), user mode, idle, or exit
// (isHoldout says how this model counts them).
// After an ordinary synchronize_rcu() it checks its holdouts every
// HZ/10 jiffies, backing off by a jiffy each time up to a second. A task that stays on
// its CPU in the kernel — a kthread spinning and calling cond_resched(),
// which preempts rather than sleeps — holds the grace period for ever,
// and the write that started the unpatch never returns.

// gpWait is an RCU Tasks grace period klp_complete_transition waits for.
type gpWait struct {
	Patch    int    // the patch whose completion waits; -1: none
	Start    uint64 // jiffy the grace period started
	Holdouts []int  // pids that have not passed a quiescent state yet
	By       int    // the kworker asleep in it (kworker.go); 0: none
}

// rcuTasksPreGP is the synchronize_rcu() RCU Tasks starts with (a
// normal grace period: a few jiffies on an idle machine).
const rcuTasksPreGP = 3

// gpPoll is the jiffy of the n-th holdout check (n from 0).
func (s *Sim) gpPoll(n int) uint64 {
	at := s.gp.Start + rcuTasksPreGP
	for k := 0; k <= n; k++ {
		at += uint64(min(s.hz/10+k, s.hz)) // backing off, at most a second
	}
	return at
}

// gpDue is when the grace period ends if no holdout is left: the first
// check at or after now; -1 while there are holdouts or no grace period.
func (s *Sim) gpDue() int64 {
	if s.gp.Patch < 0 || len(s.gp.Holdouts) > 0 {
		return -1
	}
	for n := 0; ; n++ {
		if at := s.gpPoll(n); at >= s.jiffies {
			return int64(at)
		}
	}
}

// isHoldout: a task on a CPU in the kernel has not passed an RCU Tasks
// quiescent state. (The kernel also waits for a runnable task preempted
// in the kernel, until it runs and sleeps or reaches user mode; tasks
// here run only when a scenario says so, so a runnable one counts as
// quiescent rather than holding the grace period for ever.)
func isHoldout(t *Task) bool {
	return t.State == Running && t.InKernel
}

// startGP begins the wait of klp_complete_transition for patch pi.
func (s *Sim) startGP(pi int) {
	// ftrace_shutdown first waits for every CPU to schedule
	// (synchronize_rcu_tasks_rude), so no handler is left half-way.
	s.drainHandlers("ftrace_shutdown (synchronize_rcu_tasks_rude)", nil)
	s.compactTasks() // walks the tasks
	s.gp = gpWait{Patch: pi, Start: s.jiffies}
	var names []string
	for i := range s.tasks {
		// the caller (s.cur) sleeps in the wait itself: quiescent
		if t := &s.tasks[i]; isHoldout(t) && t.PID != s.cur {
			s.gp.Holdouts = append(s.gp.Holdouts, t.PID)
			names = append(names, fmt.Sprintf("%s:%d", t.Comm, t.PID))
		}
	}
	who := "no task holds it up"
	if len(names) > 0 {
		who = "holdouts (on a CPU in the kernel): " + strings.Join(names, ", ")
	}
	if s.mute(EvWait) {
		return
	}
	s.eventf(Event{Kind: EvWait, Patch: s.patches[pi].Mod, Wait: &Wait{What: WaitRCUTasks}}, "wait begins: unregister_ftrace_function waits for an RCU Tasks grace period (synchronize_rcu_tasks) with klp_mutex held; %s", who)
}

// gpInline is the grace period of a cancel's unregistering, inside the
// failing insmod whose error path comes after it: the caller sleeps
// through it in one step (sleepFor). With no holdout it ends at the first
// check; a holdout could only become quiescent in a later step, so the
// model lets the first check end it too and says so.
func (s *Sim) gpInline(pi int) {
	s.startGP(pi)
	held := len(s.gp.Holdouts) > 0
	s.sleepFor(s.gpPoll(0) - s.jiffies)
	s.gp = gpWait{Patch: -1}
	text := "wait ends: the RCU Tasks grace period is over; the cancel goes on"
	if held {
		text += " (the holdouts would hold it longer on a real box: a simplification)"
	}
	s.event(Event{Kind: EvWait, Patch: s.patches[pi].Mod, Wait: &Wait{What: WaitRCUTasks, End: true}, Text: text})
}

// pruneHoldouts drops the holdouts that passed a quiescent state. Step
// calls it after every input, so a task that sleeps and wakes again in
// two inputs has been seen asleep.
func (s *Sim) pruneHoldouts() {
	if s.gp.Patch < 0 || len(s.gp.Holdouts) == 0 {
		return
	}
	s.gp.Holdouts = slices.DeleteFunc(s.gp.Holdouts, func(pid int) bool {
		t := s.task(pid)
		return t == nil || !isHoldout(t)
	})
}

// endGP ends the grace period and lets klp_complete_transition go on.
func (s *Sim) endGP() {
	pi, by := s.gp.Patch, s.gp.By
	s.gp = gpWait{Patch: -1}
	if !s.mute(EvWait) {
		s.event(Event{Kind: EvWait, Patch: s.patches[pi].Mod, Wait: &Wait{What: WaitRCUTasks, End: true}, Text: "wait ends: the RCU Tasks grace period is over; klp_complete_transition goes on"})
	}
	finish := func() {
		s.finishComplete(pi)
		s.freeCompleted(pi)
	}
	if by != 0 && by == s.writer {
		if !s.resumeShell(by, finish) {
			finish()
		}
	} else {
		s.resumeWorker(by, finish)
	}
	// a command that waited for klp_mutex runs now
	if s.shellWait.Cmd != nil && s.gp.Patch < 0 {
		s.resumeShell(0, func() {})
	}
}

// Completing reports the patch whose completion waits for a grace period
// ("" if none) and the tasks holding it up.
func (s *Sim) Completing() (string, []string) {
	if s.gp.Patch < 0 {
		return "", nil
	}
	var who []string
	for _, pid := range s.gp.Holdouts {
		if t := s.task(pid); t != nil {
			who = append(who, fmt.Sprintf("%s:%d", t.Comm, t.PID))
		}
	}
	return s.patches[s.gp.Patch].Mod, who
}

// RunUntilUnlocked lets time pass until no completion holds klp_mutex, at
// most limit jiffies; it reports whether the mutex is free. A shell
// command that takes klp_mutex (a write under /sys/kernel/livepatch, a
// module load or unload) blocks like this.
func (s *Sim) RunUntilUnlocked(limit uint64) bool {
	return s.advanceUntil(limit, func() bool { return s.gp.Patch < 0 })
}

// KlpMutexHeld is what an input that takes klp_mutex gets while an
// unpatch's completion holds it: on a real box the caller would block
// (the scenario language lets time pass first; see RunUntilUnlocked).
type KlpMutexHeld struct{ Patch string }

func (e *KlpMutexHeld) Error() string {
	return fmt.Sprintf("klp_mutex is held by klp_complete_transition of '%s', waiting for an RCU Tasks grace period: the caller would block", e.Patch)
}

func (s *Sim) klpMutexHeld() error { return &KlpMutexHeld{s.patches[s.gp.Patch].Mod} }
