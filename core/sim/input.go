package sim

import "fmt"

// Input is one thing that happens to the machine: something a user or a
// task does, or a piece of the kernel's own work. The set is closed (the
// unexported method), so every driver (the scenario language, the fuzz
// decoder, the bridge, a test) speaks one vocabulary, and Step is the one
// entrance that changes the state. The exported methods named like the
// inputs (Insmod, Call, Advance, …) are thin wrappers over Step.
type Input interface{ input() }

// User and task actions.
type (
	// Insmod loads a declared module (init_module), with insmod's
	// name=value parameters.
	Insmod struct {
		Module string
		Params []string
	}
	// Rmmod is delete_module.
	Rmmod struct{ Module string }
	// Shell names the task that runs the shell's commands (Insmod, Rmmod,
	// WriteFile; 0: none, and they run on the first idle CPU, from no
	// task). The task enters the kernel for each, is the current task of
	// any completion attempt made there — so it checks its own stack, and
	// its CPU is the caller's — and returns to user mode after.
	Shell struct{ PID int }
	// Kworker names the kthread that runs klp_transition_work_fn when
	// its timer fires (0: none; the work runs from no task). See
	// kworker.go.
	Kworker struct{ PID int }
	// WriteFile writes to sysfs or procfs, as echo does.
	WriteFile struct{ Path, Data string }
	// Call: the task calls a function (through the ftrace handler).
	Call struct {
		PID  int
		Func string
		Off  uint64
	}
	// Return: the task returns from its innermost frame.
	Return struct{ PID int }
	// Sleep: the task sleeps where it is.
	Sleep struct {
		PID                        int
		Uninterruptible, Freezable bool
	}
	// Wake: a sleeping task becomes runnable.
	Wake struct{ PID int }
	// Run puts a runnable task on a CPU.
	Run struct{ PID, CPU int }
	// SyscallEnter and SyscallExit cross the user/kernel boundary (the
	// exit is a switch point).
	SyscallEnter struct{ PID int }
	SyscallExit  struct{ PID int }
	// CondResched: a running kernel task calls cond_resched(). With
	// Split, the scheduler hook stops after its loads of klp_target_state
	// and before its stack check; CondReschedFinish goes on (handler.go).
	CondResched struct {
		PID   int
		Split bool
	}
	CondReschedFinish struct{ PID int }
	// ForkBegin is fork up to dup_task_struct (the child's thread flags
	// copied); ForkFinish is klp_copy_process and the child joining the
	// task list. Other inputs may come in between (the pre-6.1 race).
	ForkBegin struct {
		PID, Child int
		Comm       string
		Thread     bool
	}
	ForkFinish struct{ Child int }
	// CallBegin is a call of a patched function up to the ftrace
	// handler's func_stack read (AfterTransition: and the transition
	// flag's); CallFinish makes the rest of its reads and runs what it
	// picked. Call is both at once. See handler.go.
	CallBegin struct {
		PID             int
		Func            string
		Off             uint64
		AfterTransition bool
	}
	CallFinish struct{ PID int }
	// Exit: the task exits.
	Exit struct{ PID int }
	// Kill sends STOP, CONT, KILL, TERM or INT.
	Kill struct {
		PID int
		Sig string
	}
	// Trace attaches (On) or detaches ptrace.
	Trace struct {
		PID int
		On  bool
	}
	// SetUnreliable and SetNoRCU mark a task's stack unreliable or its
	// context as one where RCU is not watching.
	SetUnreliable struct {
		PID int
		On  bool
	}
	SetNoRCU struct {
		PID int
		On  bool
	}
	// SetCPUOnline is CPU hotplug.
	SetCPUOnline struct {
		CPU    int
		Online bool
	}
)

// The kernel's own work.
type (
	// Advance: n jiffies pass, and whatever falls due in them runs (the
	// delayed transition work, ticks, kicked idle loops), in the order a
	// kernel runs it.
	Advance struct{ Jiffies uint64 }
	// TransitionWork: time passes until the delayed klp_transition_work's
	// timer fires, and klp_transition_work_fn runs.
	TransitionWork struct{}
	// Tick: one jiffy passes (the timer interrupt on every CPU).
	Tick struct{}
	// IdleLoop: a CPU's idle task passes its switch point in the idle
	// loop, because something woke the CPU (an interrupt, an IPI, a
	// kworker that ran there).
	IdleLoop struct{ CPU int }
	// RCUTasksGP: the RCU Tasks grace period an unpatch's completion
	// waits for ends (wait.go); possible once no holdout is left.
	RCUTasksGP struct{}
)

func (Insmod) input()            {}
func (Rmmod) input()             {}
func (Shell) input()             {}
func (WriteFile) input()         {}
func (Call) input()              {}
func (Return) input()            {}
func (Sleep) input()             {}
func (Wake) input()              {}
func (Run) input()               {}
func (SyscallEnter) input()      {}
func (SyscallExit) input()       {}
func (CondResched) input()       {}
func (CondReschedFinish) input() {}
func (Exit) input()              {}
func (ForkBegin) input()         {}
func (ForkFinish) input()        {}
func (CallBegin) input()         {}
func (Kworker) input()           {}
func (CallFinish) input()        {}
func (Kill) input()              {}
func (Trace) input()             {}
func (SetUnreliable) input()     {}
func (SetNoRCU) input()          {}
func (SetCPUOnline) input()      {}
func (Advance) input()           {}
func (TransitionWork) input()    {}
func (Tick) input()              {}
func (IdleLoop) input()          {}
func (RCUTasksGP) input()        {}

// Step applies one input. What it printed and what happened come out of
// Ready. The error is the kernel's (an Errno, or an *FSError for a file)
// or says why the input does not apply to the machine as it is.
func (s *Sim) Step(in Input) error {
	err := s.stepInput(in)
	s.pruneHoldouts()
	// Time spent inside the input (a sync, a text poke) stays spent: the
	// next input in this jiffy starts where it ended, so the log's
	// timestamps never go back (the next jiffy's start resets it: pass).
	return err
}

func (s *Sim) stepInput(in Input) error {
	switch in := in.(type) {
	case Insmod:
		return s.asWriter("insmod", in, func() error {
			if in.Params != nil {
				return s.insmodParams(in.Module, in.Params)
			}
			return s.insmod(in.Module)
		})
	case Rmmod:
		return s.asWriter("rmmod", in, func() error { return s.rmmod(in.Module) })
	case WriteFile:
		return s.asWriter("write", in, func() error { return s.writeFile(in.Path, in.Data) })
	case Shell:
		return s.setWriter(in.PID)
	case Kworker:
		return s.setWorker(in.PID)
	case Call:
		return s.call(in.PID, in.Func, in.Off)
	case Return:
		return s.doReturn(in.PID)
	case Sleep:
		return s.sleep(in.PID, in.Uninterruptible, in.Freezable)
	case Wake:
		return s.wake(in.PID)
	case Run:
		return s.runOn(in.PID, in.CPU)
	case SyscallEnter:
		return s.syscallEnter(in.PID)
	case SyscallExit:
		return s.syscallExit(in.PID)
	case CondResched:
		return s.condResched(in.PID, in.Split)
	case CondReschedFinish:
		return s.hookFinish(in.PID)
	case Exit:
		return s.exit(in.PID)
	case ForkBegin:
		_, err := s.forkBegin(in)
		return err
	case ForkFinish:
		return s.forkFinish(in.Child)
	case CallBegin:
		return s.callBegin(in)
	case CallFinish:
		return s.callFinish(in.PID)
	case Kill:
		return s.kill(in.PID, in.Sig)
	case Trace:
		return s.trace(in.PID, in.On)
	case SetUnreliable:
		return s.setUnreliable(in.PID, in.On)
	case SetNoRCU:
		return s.setNoRCU(in.PID, in.On)
	case SetCPUOnline:
		return s.setCPUOnline(in.CPU, in.Online)
	case Advance:
		s.advance(in.Jiffies)
		return nil
	case Tick:
		s.advance(1)
		return nil
	case TransitionWork:
		if s.workDue < 0 {
			return fmt.Errorf("klp_transition_work is not queued")
		}
		s.advance(uint64(s.workDue) - s.jiffies)
		return nil
	case RCUTasksGP:
		due := s.gpDue()
		if due < 0 {
			return fmt.Errorf("no RCU Tasks grace period can end now (none, or holdouts left)")
		}
		s.advance(uint64(due) - s.jiffies)
		return nil
	case IdleLoop:
		if in.CPU < 0 || in.CPU >= len(s.cpus) {
			return fmt.Errorf("CPU %d does not exist (cpus=%d)", in.CPU, len(s.cpus))
		}
		c := &s.cpus[in.CPU]
		if !c.Online || c.Curr != 0 {
			return fmt.Errorf("CPU %d is not idle", in.CPU)
		}
		c.Kicked = false
		s.updatePatchState(&s.idle[in.CPU], ReasonIdle, "idle loop")
		return nil
	}
	return fmt.Errorf("unknown input %T", in)
}

// Next is an input the kernel will make happen by itself, and when.
type Next struct {
	At    uint64 // absolute jiffy
	Input Input
	Why   string
}

// Pending lists what the kernel will do by itself next, earliest first:
// a kicked CPU's idle loop (now), the tick that switches user-mode tasks
// (the next jiffy), and the delayed transition work (when its timer
// fires). A driver may Step any of them, or act first; Advance takes them
// in this order, each at its jiffy or, for a kicked idle loop, at the next
// tick.
func (s *Sim) Pending() []Next {
	out := s.AppendPending(nil)
	for i := range out {
		out[i].Why = pendingWhy(out[i].Input)
	}
	return out
}

// AppendPending appends what Pending lists to out, without the Why texts:
// the explore mode asks at every state it reaches.
func (s *Sim) AppendPending(out []Next) []Next {
	for _, f := range s.forking {
		out = append(out, Next{At: s.jiffies, Input: ForkFinish{Child: f.Child}})
	}
	for _, h := range s.inHandler {
		if h.Hook {
			out = append(out, Next{At: s.jiffies, Input: CondReschedFinish{PID: h.PID}})
			continue
		}
		out = append(out, Next{At: s.jiffies, Input: CallFinish{PID: h.PID}})
	}
	if s.tickWork {
		for c := range s.cpus {
			if cpu := &s.cpus[c]; cpu.Online && cpu.Curr == 0 && cpu.Kicked && s.idle[c].PatchPending {
				// The kick's IPI is in flight: it may run now; time
				// passing runs it at the next tick.
				out = append(out, Next{At: s.jiffies, Input: IdleLoop{CPU: c}})
			}
		}
		out = append(out, Next{At: s.jiffies + 1, Input: Tick{}})
	}
	if s.workDue >= 0 {
		out = append(out, Next{At: uint64(s.workDue), Input: TransitionWork{}})
	}
	if due := s.gpDue(); due >= 0 {
		out = append(out, Next{At: uint64(due), Input: RCUTasksGP{}})
	}
	return out
}

func pendingWhy(in Input) string {
	switch in := in.(type) {
	case ForkFinish:
		return fmt.Sprintf("copy_process of %d goes on: klp_copy_process, then the task list", in.Child)
	case CondReschedFinish:
		return fmt.Sprintf("__klp_sched_try_switch in %d goes on: its stack check and store", in.PID)
	case CallFinish:
		return fmt.Sprintf("klp_ftrace_handler in %d goes on: its remaining reads", in.PID)
	case IdleLoop:
		return fmt.Sprintf("wake_up_if_idle(%d): the idle loop passes its switch point", in.CPU)
	case Tick:
		return "per-tick work: a user-mode task returns from the timer interrupt through its switch point"
	case TransitionWork:
		return "the delayed klp_transition_work's timer fires"
	case RCUTasksGP:
		return "the RCU Tasks grace period ends: klp_complete_transition goes on"
	}
	return ""
}

// The exported methods: thin wrappers over Step.

// Insmod loads a declared module with its default parameters.
func (s *Sim) Insmod(name string) error { return s.Step(Insmod{Module: name}) }

// InsmodParams loads a module with parameters given as name=value, as
// insmod passes them.
func (s *Sim) InsmodParams(name string, args []string) error {
	if args == nil {
		args = []string{}
	}
	return s.Step(Insmod{Module: name, Params: args})
}

// Rmmod unloads a module. The error is the one delete_module returns.
func (s *Sim) Rmmod(name string) error { return s.Step(Rmmod{Module: name}) }

// WriteFile writes data (as echo would, usually with a trailing newline).
// Nothing changes when the write fails.
func (s *Sim) WriteFile(p, data string) error { return s.Step(WriteFile{Path: p, Data: data}) }

// Call makes a task call fn (a name, optionally obj:name or name,sympos).
func (s *Sim) Call(pid int, fn string, off uint64) error {
	return s.Step(Call{PID: pid, Func: fn, Off: off})
}

// Return pops the innermost frame of a task.
func (s *Sim) Return(pid int) error { return s.Step(Return{PID: pid}) }

// Sleep puts a task to sleep where it is.
func (s *Sim) Sleep(pid int, uninterruptible, freezable bool) error {
	return s.Step(Sleep{PID: pid, Uninterruptible: uninterruptible, Freezable: freezable})
}

// Wake makes a sleeping task runnable.
func (s *Sim) Wake(pid int) error { return s.Step(Wake{PID: pid}) }

// Run puts a runnable task on a CPU.
func (s *Sim) Run(pid, cpu int) error { return s.Step(Run{PID: pid, CPU: cpu}) }

// SyscallEnter enters the kernel from user mode.
func (s *Sim) SyscallEnter(pid int) error { return s.Step(SyscallEnter{PID: pid}) }

// SyscallExit returns to user space through the kernel-exit switch point.
func (s *Sim) SyscallExit(pid int) error { return s.Step(SyscallExit{PID: pid}) }

// CondResched: a running kernel task calls cond_resched().
func (s *Sim) CondResched(pid int) error { return s.Step(CondResched{PID: pid}) }

// Exit ends a task.
func (s *Sim) Exit(pid int) error { return s.Step(Exit{PID: pid}) }

// Kill sends a signal: STOP, CONT, KILL, TERM or INT.
func (s *Sim) Kill(pid int, sig string) error { return s.Step(Kill{PID: pid, Sig: sig}) }

// Trace attaches or detaches ptrace.
func (s *Sim) Trace(pid int, on bool) error { return s.Step(Trace{PID: pid, On: on}) }

// SetUnreliable marks a task's stack unreliable (or reliable again).
func (s *Sim) SetUnreliable(pid int, on bool) error { return s.Step(SetUnreliable{PID: pid, On: on}) }

// SetNoRCU marks a task as running where RCU is not watching.
func (s *Sim) SetNoRCU(pid int, on bool) error { return s.Step(SetNoRCU{PID: pid, On: on}) }

// SetCPUOnline brings a CPU online or offline.
func (s *Sim) SetCPUOnline(cpu int, on bool) error { return s.Step(SetCPUOnline{CPU: cpu, Online: on}) }

// Advance moves time forward by n jiffies, running whatever falls due.
func (s *Sim) Advance(n uint64) { _ = s.Step(Advance{Jiffies: n}) }
