package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// TaskSpec declares a task.
type TaskSpec struct {
	PID, TGID         int // 0: allocate; TGID 0: its own pid
	Parent            int // fork semantics for patch_state if a transition runs
	Comm              string
	Kind              TaskKind
	State             TaskState
	CPU               int  // for Running
	User              bool // in user mode (kernel stack empty)
	Freezable         bool
	Stack             []FrameSpec // outermost first
	Unreliable, NoRCU bool
}

// FrameSpec names a frame: "func", "func+0x10", "module:func" or
// "func,2" (sympos).
type FrameSpec struct {
	Func string
	Off  uint64 // 0: a default offset inside the function
}

// ParseFrame parses "name+0x1a" into a FrameSpec.
func ParseFrame(s string) (FrameSpec, error) {
	name, off, has := strings.Cut(s, "+")
	fs := FrameSpec{Func: name}
	if has {
		off, _, _ = strings.Cut(off, "/")
		v, err := strconv.ParseUint(off, 0, 64)
		if err != nil {
			return fs, fmt.Errorf("bad offset %q in frame %q (want e.g. +0x1a)", off, s)
		}
		fs.Off = v
	}
	if name == "" {
		return fs, fmt.Errorf("empty function name in frame %q", s)
	}
	return fs, nil
}

// ResolveFunc finds a function by "name", "module:name" or "name,sympos" in
// the loaded objects (vmlinux first). Replacement functions of loaded
// livepatch modules resolve too; Called then names the original.
func (s *Sim) ResolveFunc(spec string) (SymRef, CodeID, error) {
	obj, name, qualified := strings.Cut(spec, ":")
	if !qualified {
		name, obj = obj, ""
	}
	pos := 0
	if n, p, ok := strings.Cut(name, ","); ok {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return SymRef{}, NoCode, fmt.Errorf("bad sympos in %q", spec)
		}
		name, pos = n, v
	}
	objs := s.syms.objs[name]
	if obj != "" {
		objs = nil
		if len(s.syms.ids(obj, name)) > 0 {
			objs = []string{obj}
		}
	}
	if len(objs) == 0 {
		if obj != "" && obj != "vmlinux" && !s.objLoaded(obj) {
			return SymRef{}, NoCode, fmt.Errorf("module %s is not loaded", obj)
		}
		return SymRef{}, NoCode, fmt.Errorf("no function %s in any loaded object%s", name, s.suggestFunc(name))
	}
	if len(objs) > 1 {
		return SymRef{}, NoCode, fmt.Errorf("function %s exists in %s: write object:function", name, strings.Join(objs, " and "))
	}
	obj = objs[0]
	ids := s.syms.ids(obj, name)
	if pos == 0 && len(ids) > 1 {
		return SymRef{}, NoCode, fmt.Errorf("%s has %d functions named %s: add ,sympos (e.g. %s,1)", obj, len(ids), name, name)
	}
	if pos > len(ids) {
		return SymRef{}, NoCode, fmt.Errorf("%s has only %d functions named %s", obj, len(ids), name)
	}
	id := ids[0]
	if pos > 0 {
		id = ids[pos-1]
	}
	c := s.code[id]
	ref := SymRef{Obj: obj, Name: name, Sympos: pos}
	if c.ForPatch != "" {
		// A frame declared directly in a replacement function: the
		// caller asked for the original it replaces.
		if o := s.replacedBy(id); o != NoCode {
			oc := s.code[o]
			ref = SymRef{Obj: oc.Obj, Name: oc.Name, Sympos: pos}
		}
	}
	return ref, id, nil
}

// replacedBy returns the original function a replacement function
// replaces, or NoCode.
func (s *Sim) replacedBy(id CodeID) CodeID {
	for _, p := range s.patches {
		for _, o := range p.Objs {
			for _, f := range o.Funcs {
				if f.NewCode == id && !f.Nop && f.OldCode != NoCode {
					return f.OldCode
				}
			}
		}
	}
	return NoCode
}

// calledAs is the original function a call of code id stands for.
func (s *Sim) calledAs(id CodeID) CodeID {
	if s.code[id].ForPatch != "" {
		if o := s.replacedBy(id); o != NoCode {
			return o
		}
	}
	return id
}

// FuncNames lists every function name of the loaded objects, for
// completion and suggestions.
func (s *Sim) FuncNames() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range s.code {
		if !c.Dead && !seen[c.Name] {
			seen[c.Name] = true
			out = append(out, c.Name)
		}
	}
	return out
}

func (s *Sim) suggestFunc(name string) string {
	if best := Nearest(name, s.FuncNames()); best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return ""
}

// Nearest returns the candidate closest to name by edit distance, if it is
// close enough to be a likely typo.
func Nearest(name string, candidates []string) string {
	best, bd := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(name, c); d < bd {
			best, bd = c, d
		}
	}
	if bd <= 2 || bd <= len(name)/3 {
		return best
	}
	// A prefix of a longer name ("nohz" for "nohz_full") is a likely
	// abbreviation even when the edit distance is large.
	for _, c := range candidates {
		if len(name) >= 3 && strings.HasPrefix(c, name) {
			return c
		}
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (s *Sim) frameOff(id CodeID, off uint64) uint32 {
	size := s.code[id].Size
	if off == 0 {
		off = min(uint64(0x10), size/2)
	}
	if off >= size {
		off = size - 1
	}
	return uint32(off)
}

// Spawn adds a task. A task that appears during a transition starts like
// a fork of its parent (or, with no parent, unswitched and pending).
func (s *Sim) Spawn(ts TaskSpec) (int, error) {
	if ts.Kind == IdleTask {
		return 0, fmt.Errorf("idle tasks exist one per CPU; use the idle stack of a CPU instead")
	}
	pid := ts.PID
	if pid == 0 {
		pid = s.allocPID()
	}
	if pid < 1 || pid > 4194304 {
		return 0, fmt.Errorf("pid %d out of range 1..4194304", pid)
	}
	if s.task(pid) != nil {
		return 0, fmt.Errorf("pid %d already exists", pid)
	}
	if ts.Comm == "" {
		return 0, fmt.Errorf("task %d needs a comm", pid)
	}
	if len(ts.Comm) > 15 {
		return 0, fmt.Errorf("comm %q is longer than TASK_COMM_LEN-1 (15)", ts.Comm)
	}
	t := Task{PID: pid, TGID: ts.TGID, Comm: ts.Comm, Kind: ts.Kind, State: ts.State, InKernel: !ts.User, Freezable: ts.Freezable,
		Unreliable: ts.Unreliable, NoRCU: ts.NoRCU, PatchState: Idle, Parent: ts.Parent, CPU: -1, Ptraced: ts.State == Traced}
	if t.TGID == 0 {
		t.TGID = pid
	}
	if ts.Kind == Kthread && ts.User {
		return 0, fmt.Errorf("kthread %d cannot be in user mode", pid)
	}
	if ts.User && len(ts.Stack) > 0 {
		return 0, fmt.Errorf("task %d is in user mode: its kernel stack must be empty", pid)
	}
	if ts.User && (ts.State == Interruptible || ts.State == Uninterruptible) {
		return 0, fmt.Errorf("task %d sleeps, so it is in the kernel: drop 'user'", pid)
	}
	if ts.State == Dead {
		return 0, fmt.Errorf("task %d cannot start dead", pid)
	}
	// (an immediate patch's transition leaves every task IDLE)
	if s.transition >= 0 && !s.immediateTransition() {
		if p := s.task(ts.Parent); p != nil {
			s.copyProcess(&t, p)
		} else if s.gp.Patch >= 0 {
			// every task switched already: it comes from one of them
			t.PatchState = s.target
		} else {
			t.PatchState = 1 - s.target
			t.PatchPending = true
		}
	}
	// A declared stack is a history of calls: each one went through the
	// ftrace handler, so a patched function runs the version this task
	// sees now.
	for _, f := range ts.Stack {
		_, id, err := s.ResolveFunc(f.Func)
		if err != nil {
			return 0, fmt.Errorf("task %d stack: %v", pid, err)
		}
		run := id
		if s.code[id].ForPatch == "" {
			run = s.chooseVersion(&t, id)
		}
		t.Stack = append(t.Stack, Frame{Code: run, Off: s.frameOff(run, f.Off), Called: s.calledAs(id)})
	}
	if ts.State == Running {
		if ts.CPU < 0 || ts.CPU >= len(s.cpus) || !s.cpus[ts.CPU].Online {
			return 0, fmt.Errorf("task %d: cpu %d is not an online CPU", pid, ts.CPU)
		}
		if s.cpus[ts.CPU].Curr != 0 {
			return 0, fmt.Errorf("task %d: cpu %d already runs pid %d", pid, ts.CPU, s.cpus[ts.CPU].Curr)
		}
		t.CPU = ts.CPU
		s.cpus[ts.CPU].Curr = pid
		if ts.User && t.PatchPending {
			s.tickWork = true
		}
	}
	s.insertTask(t)
	if pid >= s.nextPID {
		s.nextPID = pid + 1
	}
	return pid, nil
}

func (s *Sim) allocPID() int {
	for s.task(s.nextPID) != nil {
		s.nextPID++
	}
	s.nextPID++
	return s.nextPID - 1
}

// SetIdleStack sets the kernel stack of a CPU's idle task.
func (s *Sim) SetIdleStack(cpu int, frames []FrameSpec) error {
	if cpu < 0 || cpu >= len(s.idle) {
		return fmt.Errorf("no cpu %d", cpu)
	}
	var st []Frame
	for _, f := range frames {
		_, id, err := s.ResolveFunc(f.Func)
		if err != nil {
			return fmt.Errorf("idle task of cpu %d: %v", cpu, err)
		}
		st = append(st, Frame{Code: id, Off: s.frameOff(id, f.Off), Called: s.calledAs(id)})
	}
	s.idle[cpu].Stack = st
	return nil
}

// TaskExists reports whether pid is a live task.
func (s *Sim) TaskExists(pid int) bool { return s.task(pid) != nil }

// Task returns a copy of a task (idle tasks by "swapper/N" are not found
// here).
func (s *Sim) Task(pid int) (Task, bool) {
	if t := s.task(pid); t != nil {
		return t.clone(), true
	}
	return Task{}, false
}

// PIDs lists the live tasks' pids in for_each_process_thread order.
func (s *Sim) PIDs() []int {
	s.compactTasks() // walks the tasks
	out := make([]int, len(s.tasks))
	for i := range s.tasks {
		out[i] = s.tasks[i].PID
	}
	return out
}

func (s *Sim) actor(pid int, what string) (*Task, error) {
	t := s.task(pid)
	if t == nil {
		return nil, fmt.Errorf("%s: no task with pid %d", what, pid)
	}
	return t, nil
}

// self is actor for what a task does itself: a parent between the halves
// of a `fork … dup-only` is inside copy_process and does nothing else
// until the fork goes on.
func (s *Sim) self(pid int, what string) (*Task, error) {
	t, err := s.actor(pid, what)
	if err != nil {
		return nil, err
	}
	for _, f := range s.forking {
		if f.Parent == pid {
			return nil, fmt.Errorf("%s: %s:%d is inside copy_process (forking %d); fork-finish %d first", what, t.Comm, pid, f.Child, f.Child)
		}
	}
	if i := s.handlerIdx(pid); i >= 0 {
		return nil, fmt.Errorf("%s: %s:%d is inside %s, between its reads; %s %d first", what, t.Comm, pid, s.inHandler[i].fn(), s.inHandler[i].finishVerb(), pid)
	}
	if s.inKernelWait(pid) {
		return nil, fmt.Errorf("%s: %s:%d sleeps (D) in the kernel until the grace period klp_complete_transition waits for ends", what, t.Comm, pid)
	}
	return t, nil
}

// inKernelWait: pid is the shell asleep in a command or the kworker asleep
// in a grace period; only the grace period's end wakes it.
func (s *Sim) inKernelWait(pid int) bool {
	return pid != 0 && (pid == s.writer && s.ShellWaiting() != "" || pid == s.gp.By && s.gp.Patch >= 0)
}

func (s *Sim) mustRun(t *Task, what string) error {
	switch t.State {
	case Running, Runnable:
		return nil
	case Interruptible, Uninterruptible:
		return fmt.Errorf("%s: %s:%d is %s; wake it first", what, t.Comm, t.PID, t.State)
	default:
		return fmt.Errorf("%s: %s:%d is %s", what, t.Comm, t.PID, t.State)
	}
}

// call makes a task call a function: the ftrace handler picks the version
// for a patched function, and a frame is pushed.
func (s *Sim) call(pid int, fn string, off uint64) error {
	t, err := s.self(pid, "call")
	if err != nil {
		return err
	}
	if err := s.mustRun(t, "call"); err != nil {
		return err
	}
	_, id, err := s.ResolveFunc(fn)
	if err != nil {
		return fmt.Errorf("call: %v", err)
	}
	if !t.InKernel {
		t.InKernel = true
		s.eventf(Event{Kind: EvTask, PID: pid}, "%s:%d enters the kernel (syscall)", t.Comm, pid)
	}
	s.push(t, id, off)
	return nil
}

// push makes t call the function whose own code is id, through the
// ftrace handler when it is patched.
func (s *Sim) push(t *Task, id CodeID, off uint64) {
	orig := s.calledAs(id)
	run := id
	if s.code[id].ForPatch == "" {
		run = s.chooseVersion(t, orig)
	}
	t.Stack = append(t.Stack, Frame{Code: run, Off: s.frameOff(run, off), Called: orig})
	s.callHooks(t, orig, run)
	if _, patched := s.opsByCode[orig]; patched && !s.mute(EvCall) {
		c := s.code[run]
		what := "the original"
		if c.ForPatch != "" {
			what = c.Name + " [" + c.ForPatch + "]"
		}
		name := s.code[orig].Name
		s.eventf(Event{Kind: EvCall, PID: t.PID, Func: name}, "%s:%d calls %s: the ftrace handler runs %s (patch_state %d)", t.Comm, t.PID, name, what, t.PatchState)
	}
	s.checkMix(t)
}

// doReturn pops the innermost frame.
func (s *Sim) doReturn(pid int) error {
	t, err := s.self(pid, "return")
	if err != nil {
		return err
	}
	if err := s.mustRun(t, "return"); err != nil {
		return err
	}
	if len(t.Stack) == 0 {
		return fmt.Errorf("return: %s:%d has no kernel frame to return from", t.Comm, pid)
	}
	t.Stack = t.Stack[:len(t.Stack)-1]
	return nil
}

// sleep puts a task to sleep where it is: interruptible (S) or not (D),
// optionally freezable (TASK_FREEZABLE, which the v6.16 __schedule hook
// looks at).
func (s *Sim) sleep(pid int, uninterruptible, freezable bool) error {
	t, err := s.self(pid, "sleep")
	if err != nil {
		return err
	}
	if err := s.mustRun(t, "sleep"); err != nil {
		return err
	}
	if !t.InKernel {
		return fmt.Errorf("sleep: %s:%d is in user mode; a task sleeps in the kernel (call a function first)", t.Comm, pid)
	}
	if freezable && s.schedHook && s.prof.ScheduleHook() && t.PatchPending {
		s.step("__schedule: %s:%d enters a freezable sleep; klp_sched_try_switch checks its own stack", t.Comm, pid)
		s.selfSwitch(t, "scheduler hook")
	}
	s.leaveCPU(t)
	t.State = Interruptible
	if uninterruptible {
		t.State = Uninterruptible
	}
	t.Freezable = freezable
	return nil
}

// selfSwitch is __klp_sched_try_switch: t checks its own stack.
func (s *Sim) selfSwitch(t *Task, how string) {
	if s.transition < 0 || !t.PatchPending {
		return
	}
	names := s.buildCheckTable()
	was := t.PatchState
	if s.trySwitchTask(t, names, t.CPU, true) {
		s.event(Event{Kind: EvSwitch, PID: t.PID, Text: fmt.Sprintf("%s:%d switched to %s (%s)", t.Comm, t.PID, s.prof.StateName(t.PatchState), how),
			Switch: &Switch{From: was, To: t.PatchState, Reason: ReasonStackCheck}})
	}
}

// leaveCPU takes t off its CPU; the CPU goes idle and its idle task passes
// the idle-loop switch point.
func (s *Sim) leaveCPU(t *Task) {
	if t.State != Running {
		return
	}
	c := t.CPU
	t.State = Runnable
	t.CPU = -1
	if c >= 0 && s.cpus[c].Curr == t.PID {
		s.cpus[c].Curr = 0
		s.updatePatchState(&s.idle[c], ReasonIdle, "idle loop")
	}
}

// wake makes a sleeping task runnable.
func (s *Sim) wake(pid int) error {
	t, err := s.actor(pid, "wake")
	if err != nil {
		return err
	}
	if t.State != Interruptible && t.State != Uninterruptible {
		return fmt.Errorf("wake: %s:%d is %s, not sleeping", t.Comm, pid, t.State)
	}
	if s.inKernelWait(pid) {
		return fmt.Errorf("wake: %s:%d sleeps in klp_mutex or in the grace period klp_complete_transition waits for; it wakes when that ends", t.Comm, pid)
	}
	s.wakeTask(t)
	return nil
}

func (s *Sim) wakeTask(t *Task) {
	t.State = Runnable
	t.Freezable = false
	if !s.mute(EvTask) {
		s.eventf(Event{Kind: EvTask, PID: t.PID}, "%s:%d woken", t.Comm, t.PID)
	}
}

// runOn puts a runnable task on a CPU, preempting whatever ran there.
func (s *Sim) runOn(pid, cpu int) error {
	t, err := s.actor(pid, "run")
	if err != nil {
		return err
	}
	if i := s.handlerIdx(pid); i >= 0 {
		return fmt.Errorf("run: %s:%d is inside %s with preemption disabled; %s %d first", t.Comm, pid, s.inHandler[i].fn(), s.inHandler[i].finishVerb(), pid)
	}
	if t.State != Runnable && t.State != Running {
		return fmt.Errorf("run: %s:%d is %s, not runnable", t.Comm, pid, t.State)
	}
	if cpu < 0 || cpu >= len(s.cpus) || !s.cpus[cpu].Online {
		return fmt.Errorf("run: cpu %d is not online", cpu)
	}
	if t.State == Running && t.CPU == cpu {
		return nil
	}
	s.leaveCPU(t)
	s.preempt(cpu)
	s.cpus[cpu].Curr = pid
	s.cpus[cpu].Kicked = false
	t.State = Running
	t.CPU = cpu
	if !t.InKernel {
		s.tickWork = true
	}
	return nil
}

// syscallEnter enters the kernel from user mode.
func (s *Sim) syscallEnter(pid int) error {
	t, err := s.self(pid, "syscall")
	if err != nil {
		return err
	}
	if err := s.mustRun(t, "syscall"); err != nil {
		return err
	}
	if t.Kind == Kthread {
		return fmt.Errorf("syscall: %s:%d is a kthread; it never leaves the kernel", t.Comm, pid)
	}
	t.InKernel = true
	return nil
}

// syscallExit returns all the way to user mode: every frame returns, and
// the exit path runs klp_update_patch_state.
func (s *Sim) syscallExit(pid int) error {
	t, err := s.self(pid, "sysret")
	if err != nil {
		return err
	}
	if err := s.mustRun(t, "sysret"); err != nil {
		return err
	}
	if t.Kind == Kthread {
		return fmt.Errorf("sysret: %s:%d is a kthread; kthreads never return to user space", t.Comm, pid)
	}
	t.Stack = t.Stack[:0]
	t.Interrupted = nil
	s.exitToUser(t, "kernel exit")
	return nil
}

// exitToUser is the exit_to_user_mode loop: the switch point, signal
// delivery (fake signals deliver nothing), and a pending stop.
func (s *Sim) exitToUser(t *Task, how string) {
	why := ReasonKernelExit
	if t.SigPending {
		why = ReasonFakeSignal // real signals (SIGSTOP, SIGCONT) set no flag here
	}
	t.InKernel = false
	if s.prof.SwitchBeforeSignal() {
		s.updatePatchState(t, why, how)
	}
	t.SigPending = false
	if t.StopPending {
		t.StopPending = false
		s.leaveCPU(t)
		t.InKernel = true
		if t.Ptraced {
			t.State = Traced
			s.pushStopFrames(t, traceFrames[:])
			s.eventf(Event{Kind: EvSignal, PID: t.PID}, "%s:%d enters a ptrace stop (the attach's SIGSTOP)", t.Comm, t.PID)
			return
		}
		t.State = Stopped
		s.pushStopFrames(t, stopFrames[:])
		s.eventf(Event{Kind: EvSignal, PID: t.PID}, "%s:%d stops (SIGSTOP)", t.Comm, t.PID)
		return
	}
	if !s.prof.SwitchBeforeSignal() {
		s.updatePatchState(t, why, how)
	}
	if t.State == Running {
		s.tickWork = true
	}
}

// sendStop is a SIGSTOP's arrival: an interruptible sleep ends, a task in
// user mode is kicked out to the kernel exit, where it stops; any other
// stops at its next return to user space.
func (s *Sim) sendStop(t *Task, what string) {
	t.StopPending = true
	switch {
	case t.State == Interruptible:
		s.interruptSleep(t, what)
	case t.State == Running && !t.InKernel:
		s.exitToUser(t, "kernel exit after "+what)
	default:
		s.eventf(Event{Kind: EvSignal, PID: t.PID}, "%s:%d is %s: it stops at its next return to user space", t.Comm, t.PID, t.State)
	}
}

// resumeStopped lets a stopped or traced task go on: its stop's frames
// return to the exit loop, which it passes (a switch point), and an
// interrupted syscall restarts.
func (s *Sim) resumeStopped(t *Task, how string) {
	t.State = Runnable
	t.Stack = t.Stack[:0]
	s.exitToUser(t, how)
	s.restartSyscall(t)
}

// stopFrames are the calls a task stopped by SIGSTOP sleeps in, on its
// way out to user mode (get_signal, do_signal_stop, then schedule): the
// names every kernel since v4.12 has there, below the architecture's
// exit loop, which the model leaves out as it leaves out the entry code.
// A traced task's stop is ptrace_stop's, reached from get_signal through
// ptrace_signal (the attach's SIGSTOP, reported to the tracer).
var (
	stopFrames  = [...]string{"get_signal", "do_signal_stop", "schedule"}
	traceFrames = [...]string{"get_signal", "ptrace_signal", "ptrace_stop", "schedule"}
)

// pushStopFrames puts the stop's frames the scenario declares on t's
// stack, called through the ftrace handler: the stack check sees them, so
// a patch of get_signal or do_signal_stop waits for a task stopped before
// its transition began until SIGCONT (a fake signal does not wake a
// stopped or traced task). schedule alone, without a signal frame, is not
// pushed: it would say nothing about where the task stopped.
func (s *Sim) pushStopFrames(t *Task, frames []string) {
	t.Stack = t.Stack[:0]
	for i, name := range frames {
		if i == len(frames)-1 && len(t.Stack) == 0 {
			break
		}
		if _, id, err := s.ResolveFunc("vmlinux:" + name); err == nil {
			s.push(t, id, 0)
		}
	}
}

// fakeSignal is what a fake signal does to a user task (signal_wake_up or
// set_notify_signal).
func (s *Sim) fakeSignal(t *Task) {
	t.SigPending = true
	switch {
	case t.State == Interruptible:
		s.eventf(Event{Kind: EvSignal, PID: t.PID}, "%s:%d gets a fake signal and wakes", t.Comm, t.PID)
		s.interruptSleep(t, "fake signal")
		s.restartSyscall(t)
	case t.State == Running && !t.InKernel:
		s.eventf(Event{Kind: EvSignal, PID: t.PID}, "%s:%d gets a fake signal; the IPI kicks it to the kernel exit", t.Comm, t.PID)
		s.exitToUser(t, "kernel exit after the fake signal's IPI")
	case t.State == Runnable && !t.InKernel:
		s.eventf(Event{Kind: EvSignal, PID: t.PID}, "%s:%d gets a fake signal; it was preempted in user mode and switches when it next runs (or at the next stack check)", t.Comm, t.PID)
	case t.State == Running || t.State == Runnable:
		s.eventf(Event{Kind: EvSignal, PID: t.PID}, "%s:%d gets a fake signal; it is in the kernel and handles it at its next return to user space", t.Comm, t.PID)
	default:
		s.eventf(Event{Kind: EvSignal, PID: t.PID}, "%s:%d gets a fake signal but is %s: nothing happens", t.Comm, t.PID, t.State)
	}
}

// interruptSleep: an interruptible sleep ends with -ERESTARTSYS, the task
// unwinds to the kernel exit and switches there.
func (s *Sim) interruptSleep(t *Task, why string) {
	t.Interrupted = t.Interrupted[:0]
	for _, f := range t.Stack {
		t.Interrupted = append(t.Interrupted, f.Called)
	}
	t.SleptIn = t.State
	t.Stack = t.Stack[:0]
	t.State = Runnable
	t.Freezable = false
	s.eventf(Event{Kind: EvTask, PID: t.PID}, "%s:%d: sleep interrupted (%s), -ERESTARTSYS unwinds to the kernel exit", t.Comm, t.PID, why)
	s.exitToUser(t, "kernel exit after "+why)
}

// restartSyscall re-enters the interrupted syscall: the same calls again,
// through the ftrace handler, so they now run the task's new view.
func (s *Sim) restartSyscall(t *Task) {
	if len(t.Interrupted) == 0 || t.State == Stopped {
		return
	}
	chain := t.Interrupted
	t.Interrupted = nil
	t.InKernel = true
	for _, id := range chain {
		if id == NoCode || s.code[id].Dead {
			break // its module went away meanwhile
		}
		s.push(t, id, 0)
	}
	s.leaveCPU(t)
	t.State = Interruptible
	if t.SleptIn == Uninterruptible {
		t.State = Uninterruptible
	}
	s.eventf(Event{Kind: EvTask, PID: t.PID}, "%s:%d restarts its syscall and sleeps again", t.Comm, t.PID)
}

// condResched is a cond_resched() call by a running kernel task; from v6.4
// to v6.15 it tries to switch the caller. split stops the hook after its
// loads of klp_target_state (handler.go).
func (s *Sim) condResched(pid int, split bool) error {
	t, err := s.self(pid, "cond_resched")
	if err != nil {
		return err
	}
	if t.State != Running || !t.InKernel {
		return fmt.Errorf("cond_resched: %s:%d must be running in the kernel", t.Comm, pid)
	}
	acts := s.prof.CondReschedHook() && s.schedHook && t.PatchPending
	if split {
		if !acts {
			return fmt.Errorf("cond_resched %d split: the livepatch hook does not act here (%s); call cond_resched without split", pid, s.hookIdleWhy(t))
		}
		return s.hookBegin(t)
	}
	if acts {
		s.step("cond_resched: %s:%d: __klp_sched_try_switch checks its own stack", t.Comm, pid)
		s.selfSwitch(t, "cond_resched hook")
	} else {
		s.eventf(Event{Kind: EvTask, PID: pid}, "%s:%d calls cond_resched(): no livepatch hook acts here", t.Comm, pid)
	}
	return nil
}

// hookIdleWhy says why cond_resched's livepatch hook does nothing for t.
func (s *Sim) hookIdleWhy(t *Task) string {
	switch {
	case !s.prof.CondReschedHook():
		return "profile " + s.prof.String() + " has no cond_resched hook"
	case !s.schedHook:
		return "no transition has enabled it"
	default:
		return fmt.Sprintf("%s:%d has no TIF_PATCH_PENDING", t.Comm, t.PID)
	}
}

// Fork creates a child of pid (a thread if thread is set) with
// klp_copy_process semantics, in one go: dup_task_struct and
// klp_copy_process with nothing in between, as in the typical case. It
// returns the child's pid.
func (s *Sim) Fork(pid, childPID int, comm string, thread bool) (int, error) {
	cpid, err := s.forkBegin(ForkBegin{PID: pid, Child: childPID, Comm: comm, Thread: thread})
	if err != nil {
		return 0, err
	}
	return cpid, s.Step(ForkFinish{Child: cpid})
}

// forking is a child between dup_task_struct and klp_copy_process: not
// yet on the task list, so no transition sees it.
type forking struct {
	Parent, Child, TGID int
	Comm                string
	Pending             bool // TIF_PATCH_PENDING as dup_task_struct copied it
}

// forkBegin is copy_process up to dup_task_struct: the child's thread
// flags, TIF_PATCH_PENDING among them, are a copy of the parent's now.
func (s *Sim) forkBegin(in ForkBegin) (int, error) {
	p, err := s.self(in.PID, "fork")
	if err != nil {
		return 0, err
	}
	if err := s.mustRun(p, "fork"); err != nil {
		return 0, err
	}
	comm := in.Comm
	if comm == "" {
		comm = p.Comm
	}
	cpid := in.Child
	if cpid == 0 {
		cpid = s.allocPID()
		for s.forkingIdx(cpid) >= 0 {
			cpid = s.allocPID()
		}
	}
	if s.task(cpid) != nil || s.forkingIdx(cpid) >= 0 {
		return 0, fmt.Errorf("fork: pid %d already exists", cpid)
	}
	f := forking{Parent: in.PID, Child: cpid, Comm: comm, Pending: p.PatchPending}
	if in.Thread {
		f.TGID = p.TGID
	}
	s.forking = append(s.forking, f)
	if !s.mute(EvTask) {
		s.eventf(Event{Kind: EvTask, PID: cpid}, "%s:%d forks %s:%d: dup_task_struct copies TIF_PATCH_PENDING=%d; the child is not on the task list yet", p.Comm, in.PID, comm, cpid, b2i(p.PatchPending))
	}
	return cpid, nil
}

func (s *Sim) forkingIdx(child int) int {
	for i, f := range s.forking {
		if f.Child == child {
			return i
		}
	}
	return -1
}

// forkFinish is the rest of copy_process: klp_copy_process, then the
// child joins the task list (both under tasklist_lock).
func (s *Sim) forkFinish(child int) error {
	i := s.forkingIdx(child)
	if i < 0 {
		return fmt.Errorf("fork: no fork of pid %d in progress", child)
	}
	f := s.forking[i]
	s.forking = append(s.forking[:i], s.forking[i+1:]...)
	p := s.task(f.Parent)
	if p == nil {
		return fmt.Errorf("fork: parent %d exited; the fork of %d fails", f.Parent, child)
	}
	parent := *p
	cpid, err := s.Spawn(TaskSpec{PID: child, TGID: f.TGID, Comm: f.Comm, Kind: parent.Kind, State: Runnable, Parent: f.Parent})
	if err != nil {
		return fmt.Errorf("fork: %v", err)
	}
	c := s.task(cpid)
	if c.TGID == 0 {
		c.TGID = cpid
	}
	s.copyProcess(c, s.task(f.Parent))
	if !s.prof.CopyProcessSyncsFlag() {
		// Before 747f7a290117 (v6.1) klp_copy_process copied only
		// patch_state: the flag is still what dup_task_struct copied.
		c.PatchPending = f.Pending
	}
	if !s.mute(EvTask) {
		s.eventf(Event{Kind: EvTask, PID: cpid}, "%s:%d forked %s:%d (klp_copy_process: patch_state %d, pending %v)", parent.Comm, f.Parent, f.Comm, cpid, c.PatchState, c.PatchPending)
	}
	if c.PatchState != Idle {
		s.switchEvent(c, Idle, ReasonFork, "klp_copy_process: the parent's state")
	}
	return nil
}

// exit ends a task.
func (s *Sim) exit(pid int) error {
	t, err := s.self(pid, "exit")
	if err != nil {
		return err
	}
	s.leaveCPU(t)
	s.eventf(Event{Kind: EvTask, PID: pid}, "%s:%d exits", t.Comm, pid)
	s.removeTask(s.findTask(pid))
	return nil
}

// kill sends STOP, CONT or KILL.
func (s *Sim) kill(pid int, sig string) error {
	t, err := s.actor(pid, "kill")
	if err != nil {
		return err
	}
	sig = strings.TrimPrefix(strings.ToUpper(sig), "SIG")
	if s.handlerIdx(pid) >= 0 || s.inKernelWait(pid) {
		// delivered on the way out of the kernel, which it is not on yet
		s.eventf(Event{Kind: EvSignal, PID: pid}, "%s:%d is inside the kernel and cannot be interrupted (klp_ftrace_handler with preemption disabled, or a D sleep): it would take SIG%s only on its way out; the simulator drops it (send it again then)", t.Comm, pid, sig)
		return nil
	}
	if t.Kind == Kthread && sig != "CONT" {
		s.eventf(Event{Kind: EvSignal, PID: pid}, "%s:%d is a kthread: SIG%s is ignored", t.Comm, pid, sig)
		return nil
	}
	switch sig {
	case "STOP":
		if t.State != Stopped && t.State != Traced {
			s.sendStop(t, "SIGSTOP")
		}
	case "CONT":
		if t.State != Stopped {
			t.StopPending = false
			return nil
		}
		s.eventf(Event{Kind: EvSignal, PID: pid}, "%s:%d continues (SIGCONT)", t.Comm, pid)
		s.resumeStopped(t, "kernel exit after SIGCONT")
	case "KILL", "TERM", "INT":
		if t.State == Uninterruptible {
			s.eventf(Event{Kind: EvSignal, PID: pid}, "%s:%d is in uninterruptible sleep: SIG%s waits until it wakes", t.Comm, pid, sig)
			return nil
		}
		return s.Exit(pid)
	default:
		return fmt.Errorf("kill: signal %s is not simulated (STOP, CONT, KILL, TERM, INT)", sig)
	}
	return nil
}

// trace is PTRACE_ATTACH and PTRACE_DETACH. The attach sends SIGSTOP,
// and the tracee stops where a SIGSTOP stops it, in a ptrace stop
// instead: an interruptible sleep ends and the task goes out through the
// kernel exit (a switch point), a task in user mode is kicked there, a
// stopped task becomes traced, and any other (running in the kernel, or
// in D) stops at its next return to user space. A fake signal does not
// wake a traced task. The detach resumes a task in a ptrace stop, which
// then leaves the kernel like a continued one (ESRCH if it is not in one,
// as PTRACE_DETACH requires).
func (s *Sim) trace(pid int, on bool) error {
	t, err := s.actor(pid, "ptrace")
	if err != nil {
		return err
	}
	if t.Kind == Kthread {
		return fmt.Errorf("ptrace: %s:%d is a kthread", t.Comm, pid)
	}
	if on {
		if t.Ptraced {
			return fmt.Errorf("ptrace: %s:%d is already traced (EPERM)", t.Comm, pid)
		}
		if s.inKernelWait(pid) {
			return fmt.Errorf("ptrace: %s:%d sleeps (D) in the kernel until a grace period ends; it stops only when it returns", t.Comm, pid)
		}
		t.Ptraced = true
		s.eventf(Event{Kind: EvSignal, PID: pid}, "%s:%d is attached (PTRACE_ATTACH sends SIGSTOP)", t.Comm, pid)
		switch {
		case t.State == Stopped:
			t.State = Traced
			s.pushStopFrames(t, traceFrames[:])
			s.eventf(Event{Kind: EvSignal, PID: pid}, "%s:%d enters a ptrace stop (it was stopped)", t.Comm, pid)
		case t.State != Traced:
			s.sendStop(t, "PTRACE_ATTACH's SIGSTOP")
		}
		return nil
	}
	if !t.Ptraced {
		return fmt.Errorf("ptrace: %s:%d is not traced (ESRCH)", t.Comm, pid)
	}
	if t.State != Traced {
		return fmt.Errorf("ptrace: %s:%d is not in a ptrace stop yet (ESRCH): PTRACE_DETACH needs one", t.Comm, pid)
	}
	t.Ptraced = false
	s.eventf(Event{Kind: EvSignal, PID: pid}, "%s:%d leaves its ptrace stop (PTRACE_DETACH)", t.Comm, pid)
	s.resumeStopped(t, "kernel exit after PTRACE_DETACH")
	return nil
}

// setUnreliable marks a task's stack as one the unwinder cannot trust.
func (s *Sim) setUnreliable(pid int, on bool) error {
	t, err := s.actor(pid, "unreliable")
	if err != nil {
		return err
	}
	t.Unreliable = on
	return nil
}

// setNoRCU marks a task as running where RCU is not watching.
func (s *Sim) setNoRCU(pid int, on bool) error {
	t, err := s.actor(pid, "norcu")
	if err != nil {
		return err
	}
	t.NoRCU = on
	return nil
}

// setCPUOnline brings a CPU up or down (CPU hotplug).
func (s *Sim) setCPUOnline(cpu int, on bool) error {
	if cpu < 0 || cpu >= len(s.cpus) {
		return ENOENT
	}
	c := &s.cpus[cpu]
	if c.Online == on {
		return nil
	}
	if !on {
		if cpu == 0 {
			return EBUSY
		}
		// takedown_cpu runs stop_machine: every CPU must run its stopper,
		// which a CPU inside the ftrace handler (preemption disabled)
		// cannot do until the handler is done.
		s.drainHandlers("stop_machine (takedown_cpu)", nil)
		s.preempt(cpu)
		c.Kicked = false
	}
	c.Online = on
	s.eventf(Event{Kind: EvTask, CPU: cpu}, "cpu %d %s", cpu, map[bool]string{true: "online", false: "offline"}[on])
	return nil
}

// CPUs returns a copy of the CPU table.
func (s *Sim) CPUs() []CPU { return append([]CPU(nil), s.cpus...) }
