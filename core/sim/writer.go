package sim

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// The shell as a task.
//
// A real `insmod` or `echo 1 > …/enabled` is a system call made by a
// process on some CPU: the kernel's work — the first completion attempt
// included — runs in that task's context. It is `current` there, so it
// checks its own stack (and passes: its stack is the write path), its CPU
// is not "running" anyone else, and the hook's text poke (textpoke.go)
// syncs every CPU but that one. After the work it returns to user mode
// through the exit path, a switch point. Without a declared shell
// (Shell{0}) the commands run on the first idle CPU, from no task.
//
// The shell also waits as a task does. A command that finds klp_mutex
// held by an unpatch's completion (waiting for an RCU Tasks grace period)
// sleeps in mutex_lock, D; a write whose own completion starts that wait
// sleeps in synchronize_rcu_tasks, D. Either returns only when the grace
// period ends (endGP resumes it), or never; meanwhile the shell runs
// nothing else and `wake` does not apply to it.

// shellWait is the shell asleep in a command (Shell.PID's task).
type shellWait struct {
	Cmd  Input  // a command blocked on klp_mutex, not run yet; nil: none
	What string // its name (insmod, rmmod, write)
	User bool   // it came from user mode (returns there)
	Own  bool   // it ran; its own completion waits (gp.By)
}

// ShellBlocked is what a shell command gets when it goes to sleep in the
// kernel instead of returning: the scenario says so and goes on.
type ShellBlocked struct {
	What, Comm string
	PID        int
	Own        bool // in its own klp_complete_transition's wait
}

func (e *ShellBlocked) Error() string {
	if e.Own {
		return fmt.Sprintf("%s has not returned: its own klp_complete_transition waits, klp_mutex held, for an RCU Tasks grace period; the shell, %s:%d, sleeps (D) in synchronize_rcu_tasks until it ends", e.What, e.Comm, e.PID)
	}
	return fmt.Sprintf("%s blocks: klp_complete_transition holds klp_mutex during an RCU Tasks grace period; the shell, %s:%d, sleeps (D) in mutex_lock until it is released", e.What, e.Comm, e.PID)
}

// waitsIn says what pid (the shell or the kworker, inKernelWait) sleeps in.
func (s *Sim) waitsIn(pid int) string {
	if pid == s.writer && s.ShellWaiting() != "" {
		if s.shellWait.Own {
			return fmt.Sprintf("synchronize_rcu_tasks, klp_mutex held: its %s's unpatch waits for the grace period", s.shellWait.What)
		}
		return fmt.Sprintf("mutex_lock(&klp_mutex): its %s waits for klp_complete_transition", s.shellWait.What)
	}
	return "synchronize_rcu_tasks, klp_mutex held: klp_complete_transition waits for the grace period"
}

// ShellWaiting reports the command the shell sleeps in ("" if none).
func (s *Sim) ShellWaiting() string {
	if s.writer == 0 || (s.shellWait.Cmd == nil && !s.shellWait.Own) || s.task(s.writer) == nil {
		return ""
	}
	return s.shellWait.What
}

// setWriter is the Shell input.
func (s *Sim) setWriter(pid int) error {
	if pid == 0 {
		s.writer = 0
		return nil
	}
	t := s.task(pid)
	if t == nil {
		return fmt.Errorf("shell: no task %d", pid)
	}
	if t.Kind != UserTask {
		return fmt.Errorf("shell: %s:%d is a %s; the shell is a user task", t.Comm, pid, t.Kind)
	}
	s.writer = pid
	return nil
}

// asWriter runs a shell command's system call (fn) as the shell's task:
// put on a CPU if it was only runnable, in the kernel while fn runs, back
// to user mode (and off the CPU it was put on) after.
func (s *Sim) asWriter(what string, in Input, fn func() error) error {
	if s.writer == 0 {
		return fn()
	}
	if w := s.ShellWaiting(); w != "" {
		t := s.task(s.writer)
		return fmt.Errorf("%s: the shell, %s:%d, sleeps (D) in its %s and runs nothing until that returns", what, t.Comm, t.PID, w)
	}
	t := s.task(s.writer)
	if t == nil {
		s.writer = 0 // the shell exited; what runs now runs from no task
		return fn()
	}
	pid := t.PID
	placed := false
	switch t.State {
	case Running:
	case Runnable:
		s.placeOnCaller(t)
		placed = true
	default:
		return fmt.Errorf("%s: the shell, %s:%d, is %s and runs nothing until it is woken", what, t.Comm, pid, t.State)
	}
	user := !t.InKernel
	t.InKernel = true
	gpBefore := s.gp.Patch
	s.cur = pid
	err := fn()
	s.cur = 0
	if t = s.task(pid); t == nil { // (fn may have grown the task table)
		return err
	}
	var held *KlpMutexHeld
	switch {
	case errors.As(err, &held) && in != nil:
		s.shellWait = shellWait{Cmd: in, What: what, User: user}
		return s.shellSleeps(t, "mutex_lock(&klp_mutex)", false)
	case err == nil && gpBefore < 0 && s.gp.Patch >= 0 && s.gp.By == 0:
		s.shellWait = shellWait{What: what, User: user, Own: true}
		s.gp.By = pid
		return s.shellSleeps(t, "synchronize_rcu_tasks", true)
	}
	if user && t.State == Running {
		t.Stack = t.Stack[:0]
		s.exitToUser(t, "return to user mode from its "+what)
	}
	if placed {
		s.leaveCPU(t)
	}
	return err
}

// ErrnoOf is the errno an error of the kernel's carries: an Errno, an
// FSError's, or EINVAL if none does.
func ErrnoOf(err error) Errno {
	var fe *FSError
	if errors.As(err, &fe) {
		return fe.Err
	}
	var e Errno
	if errors.As(err, &e) {
		return e
	}
	return EINVAL
}

// placeOnCaller puts t on the CPU the kernel's work runs on now (the
// first idle one, as the scheduler picks for a woken task) and returns
// it; whatever ran there is preempted.
func (s *Sim) placeOnCaller(t *Task) int { return s.placeOn(t, s.callerCPU()) }

// placeOn makes t current on CPU c, preempting what ran there.
func (s *Sim) placeOn(t *Task, c int) int {
	s.preempt(c)
	t.State, t.CPU = Running, c
	s.cpus[c].Curr = t.PID
	return c
}

// storeOrphaned: p was a livepatch attribute whose patch has been freed
// meanwhile. enabled_store, force_store and signal_store all refuse a patch
// that is not the one in transition (and cannot be re-enabled): EINVAL.
func (s *Sim) storeOrphaned(p string) bool {
	p = path.Clean("/" + p)
	if !strings.HasPrefix(p, "/sys/kernel/livepatch/") {
		return false
	}
	_, ok := s.resolve(p)
	return !ok
}

// shellSleeps puts the shell to sleep (D) in the kernel at where.
func (s *Sim) shellSleeps(t *Task, where string, own bool) error {
	s.leaveCPU(t)
	t.State = Uninterruptible
	s.eventf(Event{Kind: EvWait, PID: t.PID, Wait: &Wait{What: WaitTask}}, "wait begins: %s:%d sleeps (D) in %s: its %s does not return yet", t.Comm, t.PID, where, s.shellWait.What)
	return &ShellBlocked{What: s.shellWait.What, Comm: t.Comm, PID: t.PID, Own: own}
}

// resumeShell wakes the shell when the grace period ends: its own
// completion goes on as it (fn) and it returns; or the command that waited
// for klp_mutex runs now. Reports false if the shell was not waiting.
func (s *Sim) resumeShell(by int, fn func()) bool {
	w := s.shellWait
	t := s.task(s.writer)
	if t == nil || t.State != Uninterruptible || (by != s.writer && w.Cmd == nil) || (by == s.writer) != w.Own {
		return false
	}
	s.shellWait = shellWait{}
	t.State, t.InKernel = Runnable, !w.User // asWriter returns it to user mode
	pid, comm := t.PID, t.Comm
	if w.Own {
		s.eventf(Event{Kind: EvWait, PID: pid, Wait: &Wait{What: WaitTask, End: true}}, "wait ends: %s:%d wakes; its %s's klp_complete_transition goes on, then it returns", comm, pid, w.What)
		_ = s.asWriter(w.What, nil, func() error { fn(); return nil })
		s.eventf(Event{Kind: EvTask, PID: pid, Ret: &CmdReturn{What: w.What}}, "%s:%d's %s returns: 0 (success)", comm, pid, w.What)
		return true
	}
	fn()
	s.eventf(Event{Kind: EvWait, PID: pid, Wait: &Wait{What: WaitTask, End: true}}, "wait ends: %s:%d gets klp_mutex; its %s goes on", comm, pid, w.What)
	var err error
	if wf, ok := w.Cmd.(WriteFile); ok && s.storeOrphaned(wf.Path) {
		// the file was open before its patch was freed: the store runs
		// on a patch that is neither enabled nor in transition
		err = s.asWriter(w.What, nil, func() error { return &FSError{"write", wf.Path, EINVAL} })
	} else {
		err = s.stepInput(w.Cmd) // as the shell again (asWriter)
	}
	res, ret := "0 (success)", &CmdReturn{What: w.What}
	if err != nil {
		res, ret.Errno = err.Error(), ErrnoOf(err).Name()
	}
	if _, again := err.(*ShellBlocked); !again {
		s.eventf(Event{Kind: EvTask, PID: pid, Ret: ret}, "%s:%d's %s returns: %s", comm, pid, w.What, res)
	}
	return true
}
