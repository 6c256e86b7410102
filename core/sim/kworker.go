package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// The kworker as a task.
//
// klp_transition_work is a delayed work item on system_wq: when its timer
// fires, a kworker of that CPU's pool wakes and runs
// klp_transition_work_fn as `current`. So the retry's checks are made by a
// task that is itself on the task list: it checks its own stack (the
// worker's frames, process_one_work and the work function among them, so
// a patch of one of those can never be completed by the retries), its CPU
// is not "running" anyone else, a WARNING names it, and when it goes back
// to sleep its CPU's idle task passes its switch point. An unpatch it
// completes leaves it asleep (D) in synchronize_rcu_tasks until the grace
// period ends. A scenario names the task (`kworker PID`); without one the
// work runs on the first idle CPU from no task, as before.

// setWorker is the Kworker input.
func (s *Sim) setWorker(pid int) error {
	if pid == 0 {
		s.worker = 0
		return nil
	}
	t := s.task(pid)
	if t == nil {
		return fmt.Errorf("kworker: no task %d", pid)
	}
	if t.Kind != Kthread {
		return fmt.Errorf("kworker: %s:%d is a %s task; a kworker is a kthread", t.Comm, pid, t.Kind)
	}
	s.worker = pid
	return nil
}

// workFrames are the frames a worker runs the work in, above its
// worker_thread frame, where the kernel declares them.
var workFrames = [...]string{"process_one_work", "klp_transition_work_fn"}

// boundCPU reads the CPU of a per-CPU worker's name, kworker/N:M (or
// kworker/N:MH); an unbound worker's (kworker/uN:M) has none.
func boundCPU(comm string) (int, bool) {
	rest, ok := strings.CutPrefix(comm, "kworker/")
	if !ok {
		return 0, false
	}
	cpu, _, ok := strings.Cut(rest, ":")
	n, err := strconv.Atoi(cpu)
	return n, ok && err == nil && n >= 0
}

// asWorker runs the transition work (fn) as the declared kworker: woken on
// the CPU whose timer fired (a bound worker's own CPU when it is idle,
// else the first idle one), current while fn runs, asleep again in
// worker_thread after.
func (s *Sim) asWorker(why string, fn func()) {
	t := s.task(s.worker)
	if s.worker == 0 || t == nil {
		s.worker = 0 // it exited: the pool has other workers
		fn()
		return
	}
	if t.State != Interruptible && t.State != Runnable {
		s.eventf(Event{Kind: EvTask, PID: t.PID}, "%s:%d is %s: another worker of the pool runs klp_transition_work_fn", t.Comm, t.PID, t.State)
		fn()
		return
	}
	pid := t.PID
	c := s.callerCPU()
	if n, ok := boundCPU(t.Comm); ok && n < len(s.cpus) && s.cpus[n].Online && s.cpus[n].Curr == 0 {
		// a bound worker (kworker/N:M) runs only on CPU N: the timer fired
		// there (the model does not track the timer's CPU, so a bound
		// worker's own CPU is taken when it is idle)
		c = n
	}
	s.placeOn(t, c)
	t.InKernel = true
	// the stack while it runs the work: off its sleep, into the work
	saved := t.Stack
	st := append([]Frame(nil), saved...)
	if n := len(st); n > 0 && s.code[st[n-1].Code].Name == "schedule" {
		st = st[:n-1]
	}
	for _, name := range workFrames {
		if _, id, err := s.ResolveFunc(name); err == nil {
			st = append(st, Frame{Code: id, Called: id})
		}
	}
	t.Stack = st
	s.eventf(Event{Kind: EvTask, PID: pid, CPU: c}, "%s:%d wakes on CPU %d: %s", t.Comm, pid, c, why)
	gpBefore := s.gp.Patch
	s.cur = pid
	fn()
	s.cur = 0
	if t = s.task(pid); t == nil {
		return
	}
	t.Stack = saved
	t.State, t.CPU = Interruptible, -1
	if s.cpus[c].Curr == pid {
		s.cpus[c].Curr = 0
	}
	if gpBefore < 0 && s.gp.Patch >= 0 {
		// its klp_complete_transition waits for the grace period
		t.State = Uninterruptible
		s.gp.By = pid
		s.eventf(Event{Kind: EvWait, PID: pid, Wait: &Wait{What: WaitTask}}, "wait begins: %s:%d sleeps (D) in synchronize_rcu_tasks with klp_mutex held", t.Comm, pid)
	}
	if s.transition >= 0 && s.cpus[c].Online && s.cpus[c].Curr == 0 {
		s.updatePatchState(&s.idle[c], ReasonIdle, "idle loop after the kworker ran there")
	}
}

// resumeWorker runs the rest of klp_complete_transition as the kworker
// that slept through the grace period (fn), if one did.
func (s *Sim) resumeWorker(by int, fn func()) {
	t := s.task(by)
	if by == 0 || t == nil || t.State != Uninterruptible {
		fn()
		return
	}
	t.State = Interruptible // woken: runs on the first idle CPU
	s.eventf(Event{Kind: EvWait, PID: by, Wait: &Wait{What: WaitTask, End: true}}, "wait ends: %s:%d wakes", t.Comm, by)
	prev := s.worker
	s.worker = by
	s.asWorker("the grace period is over; its klp_complete_transition goes on", fn)
	s.worker = prev
}
