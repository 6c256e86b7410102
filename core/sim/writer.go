package sim

import "fmt"

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
func (s *Sim) asWriter(what string, fn func() error) error {
	if s.writer == 0 {
		return fn()
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
		// the scheduler picks an idle CPU for it
		c := s.callerCPU()
		if cur := s.cpus[c].Curr; cur != 0 {
			if o := s.task(cur); o != nil {
				o.State, o.CPU = Runnable, -1 // preempted
			}
		}
		t.State, t.CPU = Running, c
		s.cpus[c].Curr = pid
		placed = true
	default:
		return fmt.Errorf("%s: the shell, %s:%d, is %s and runs nothing until it is woken", what, t.Comm, pid, t.State)
	}
	user := !t.InKernel
	t.InKernel = true
	s.cur = pid
	err := fn()
	s.cur = 0
	if t = s.task(pid); t == nil { // (fn may have grown the task table)
		return err
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
