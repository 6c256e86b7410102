package sim

import "fmt"

// The ftrace handler's reads as steps.
//
// klp_ftrace_handler (kernel/livepatch/patch.c) runs with preemption
// disabled and reads, in order: the first entry of the function's
// func_stack; that entry's transition flag; after smp_rmb, the task's
// patch_state (and, for a task still unpatched, the next entry). A plain
// `call` does all of it in one step. CallBegin stops after the func_stack
// read (or, with AfterTransition, after the transition flag read) so that
// the kernel's writes can come between, and CallFinish does the rest.
//
// What keeps the reads consistent is klp_synchronize_transition: it waits
// for every CPU to schedule, which a CPU inside the handler cannot do. So
// every synchronisation finishes the handlers in flight first (the wait),
// and a scenario can put between the reads only what the kernel lets
// through: the writes before a synchronisation. In the RFC what-if,
// synchronize_rcu() does not wait for a handler where RCU is not watching
// (Task.NoRCU): that handler finishes later, on what the writes after the
// synchronisation left — the hazard made concrete.

// The cond_resched hook's loads as steps, in the same list.
//
// __klp_sched_try_switch (v6.4 to v6.15) runs with preemption disabled:
// it sees TIF_PATCH_PENDING, and klp_try_switch_task compares the task's
// patch_state with klp_target_state, checks the stack (each function's
// check reads klp_target_state again) and stores klp_target_state into
// patch_state. Nothing orders the load for that store after the check's
// loads (plain loads of one variable; a weakly ordered CPU or the
// compiler may satisfy it first), so `cond_resched PID split` stops the
// hook with the target loaded for the compare and the store, and
// CondReschedFinish checks the stack against the target as it is then
// and stores the value loaded. Every synchronisation finishes it first,
// as a handler. From v6.4 the reversal clears the pending flags and
// synchronises before it flips the target, so the two loads cannot
// differ; the series' first version (profile cond-resched-v1) flipped
// first, and a hook that loaded the old target stores it after a check
// made for the new one: the race review found.

// handlerCall is a task between the handler's reads, or (Hook) between
// the cond_resched hook's loads and its stack check.
type handlerCall struct {
	PID    int
	Orig   CodeID // the function called
	Off    uint64
	Top    FuncRef // the func_stack's first entry, as read
	Next   FuncRef // the entry after it at that moment
	NextOK bool
	// SawTransition is set once the transition flag was read
	// (AfterTransition); Transition is what it read.
	SawTransition, Transition bool
	// Hook: the cond_resched hook, which loaded HookTarget.
	Hook       bool
	HookTarget int
}

// fn names the kernel function the task is stopped in.
func (h handlerCall) fn() string {
	if h.Hook {
		return "__klp_sched_try_switch"
	}
	return "klp_ftrace_handler"
}

// kind is what the log calls it.
func (h handlerCall) kind() string {
	if h.Hook {
		return "hook"
	}
	return "handler"
}

// finishVerb is the scenario verb that lets it go on.
func (h handlerCall) finishVerb() string {
	if h.Hook {
		return "cond_resched-finish"
	}
	return "call-finish"
}

// hookBegin is cond_resched's hook up to its loads of klp_target_state.
func (s *Sim) hookBegin(t *Task) error {
	s.inHandler = append(s.inHandler, handlerCall{PID: t.PID, Hook: true, HookTarget: s.target})
	s.eventf(Event{Kind: EvTask, PID: t.PID, CPU: t.CPU}, "%s:%d calls cond_resched(): __klp_sched_try_switch on CPU %d (preemption disabled) saw TIF_PATCH_PENDING and loaded klp_target_state (%s) for its compare and its final store, ahead of the stack check; it has not checked its stack yet", t.Comm, t.PID, t.CPU, s.prof.StateName(s.target))
	return nil
}

// hookFinish is the rest of a split cond_resched hook: the stack check
// against klp_target_state as it is now, and the store of the value
// loaded before.
func (s *Sim) hookFinish(pid int) error {
	i := s.handlerIdx(pid)
	if i < 0 || !s.inHandler[i].Hook {
		return fmt.Errorf("cond_resched-finish: pid %d is not inside __klp_sched_try_switch (no cond_resched … split)", pid)
	}
	h := s.inHandler[i]
	s.inHandler = append(s.inHandler[:i:i], s.inHandler[i+1:]...)
	t := s.task(pid)
	if t == nil {
		return nil
	}
	if t.PatchState == h.HookTarget {
		s.eventf(Event{Kind: EvTask, PID: pid}, "%s:%d: __klp_sched_try_switch: patch_state is already %s, the target it loaded: nothing to do", t.Comm, pid, s.prof.StateName(h.HookTarget))
		return nil
	}
	if s.transition < 0 {
		s.eventf(Event{Kind: EvTask, PID: pid}, "%s:%d: __klp_sched_try_switch: no transition any more: nothing to do", t.Comm, pid)
		return nil
	}
	// the stack check reads klp_target_state afresh: buildCheckTable
	// picks the functions for the current target
	s.step("cond_resched: %s:%d: __klp_sched_try_switch checks its own stack against %s", t.Comm, pid, s.prof.StateName(s.target))
	names := s.buildCheckTable()
	ret, old := s.checkStack(t, names)
	if ret != 0 {
		s.reportBlocked(t, ret, old)
		return nil
	}
	was := t.PatchState
	t.PatchPending = false
	t.PatchState = h.HookTarget
	t.Blocked = ""
	text := fmt.Sprintf("%s:%d switched to %s (cond_resched hook)", t.Comm, t.PID, s.prof.StateName(t.PatchState))
	if h.HookTarget != s.target {
		text = fmt.Sprintf("%s:%d switched to %s (cond_resched hook): it stored the target it loaded before the reversal, after a stack check made for %s", t.Comm, t.PID, s.prof.StateName(t.PatchState), s.prof.StateName(s.target))
	}
	s.event(Event{Kind: EvSwitch, PID: t.PID, Text: text, Switch: &Switch{From: was, To: t.PatchState, Reason: ReasonStackCheck, Stale: h.HookTarget != s.target}})
	return nil
}

func (s *Sim) handlerIdx(pid int) int {
	for i, h := range s.inHandler {
		if h.PID == pid {
			return i
		}
	}
	return -1
}

// callBegin enters the handler and makes its first read(s).
func (s *Sim) callBegin(in CallBegin) error {
	t, err := s.self(in.PID, "call")
	if err != nil {
		return err
	}
	if err := s.mustRun(t, "call"); err != nil {
		return err
	}
	_, id, err := s.ResolveFunc(in.Func)
	if err != nil {
		return fmt.Errorf("call: %v", err)
	}
	orig := s.calledAs(id)
	oi, patched := s.opsByCode[orig]
	if !patched || s.code[id].ForPatch != "" {
		return fmt.Errorf("call %s split: no ftrace handler runs for it (it is not patched); call it without split", in.Func)
	}
	if t.State != Running {
		return fmt.Errorf("call %s split: %s:%d is %s; the handler runs on a CPU: run %d cpu=N first", in.Func, t.Comm, t.PID, t.State, t.PID)
	}
	if !t.InKernel {
		t.InKernel = true
		s.eventf(Event{Kind: EvTask, PID: t.PID}, "%s:%d enters the kernel (syscall)", t.Comm, t.PID)
	}
	st := s.ops[oi].Stack
	h := handlerCall{PID: t.PID, Orig: orig, Off: in.Off, Top: st[0]}
	if len(st) > 1 {
		h.Next, h.NextOK = st[1], true
	}
	read := "the func_stack: its first entry is " + s.funcLabel(h.Top)
	if in.AfterTransition {
		h.SawTransition, h.Transition = true, s.fn(h.Top).Transition
		read += fmt.Sprintf(", whose transition flag is %d", b2i(h.Transition))
	}
	s.inHandler = append(s.inHandler, h)
	s.eventf(Event{Kind: EvTask, PID: t.PID, CPU: t.CPU, Func: s.code[orig].Name}, "%s:%d calls %s: klp_ftrace_handler on CPU %d (preemption disabled) read %s; it has not read the rest yet", t.Comm, t.PID, s.code[orig].Name, t.CPU, read)
	return nil
}

// funcLabel names a func_stack entry as the log does.
func (s *Sim) funcLabel(r FuncRef) string {
	f := s.fn(r)
	if f.Nop {
		return "a nop of " + s.patches[r.P].Mod
	}
	return s.code[f.NewCode].Name + " [" + s.patches[r.P].Mod + "]"
}

// callFinish makes the handler's remaining reads, picks the code and
// pushes its frame.
func (s *Sim) callFinish(pid int) error {
	i := s.handlerIdx(pid)
	if i >= 0 && s.inHandler[i].Hook {
		return fmt.Errorf("call-finish: pid %d is inside __klp_sched_try_switch, not klp_ftrace_handler; cond_resched-finish %d", pid, pid)
	}
	if i < 0 {
		return fmt.Errorf("call-finish: pid %d is not inside klp_ftrace_handler (no call … split)", pid)
	}
	h := s.inHandler[i]
	s.inHandler = append(s.inHandler[:i:i], s.inHandler[i+1:]...)
	t := s.task(pid)
	if t == nil {
		return nil // it exited (it cannot while in the handler)
	}
	tr := s.fn(h.Top).Transition
	if h.SawTransition {
		tr = h.Transition
	}
	next, ok := h.Next, h.NextOK
	if oi, patched := s.opsByCode[h.Orig]; patched {
		// still listed: its successor now (list_del_rcu leaves a removed
		// entry's next pointer as it was)
		st := s.ops[oi].Stack
		for k, r := range st {
			if r == h.Top {
				next, ok = FuncRef{}, k+1 < len(st)
				if ok {
					next = st[k+1]
				}
			}
		}
	}
	run, how := s.handlerPick(t, h.Orig, h.Top, tr, next, ok)
	t.Stack = append(t.Stack, Frame{Code: run, Off: s.frameOff(run, h.Off), Called: h.Orig})
	s.callHooks(t, h.Orig, run)
	what := "the original"
	if c := s.code[run]; c.ForPatch != "" {
		what = c.Name + " [" + c.ForPatch + "]"
	}
	name := s.code[h.Orig].Name
	s.eventf(Event{Kind: EvCall, PID: t.PID, Func: name}, "%s:%d calls %s: the ftrace handler read transition %d and patch_state %d, %s and runs %s", t.Comm, t.PID, name, b2i(tr), t.PatchState, how, what)
	s.checkMix(t)
	return nil
}

// drainHandlers finishes the handlers a synchronisation waits for: on
// every CPU but those of the tasks skip names. why names the wait.
func (s *Sim) drainHandlers(why string, skip func(*Task) bool) {
	for k := 0; k < len(s.inHandler); {
		h := s.inHandler[k]
		t := s.task(h.PID)
		if t != nil && skip != nil && skip(t) {
			k++
			continue
		}
		if t != nil {
			s.eventf(Event{Kind: EvSync, PID: t.PID, CPU: t.CPU}, "%s waits for CPU %d: %s:%d is inside %s with preemption disabled; the %s finishes first", why, t.CPU, t.Comm, t.PID, h.fn(), h.kind())
		}
		if h.Hook {
			_ = s.hookFinish(h.PID) // removes entry k
			continue
		}
		_ = s.callFinish(h.PID) // removes entry k
	}
}

// preempt takes CPU cpu's current task off it, as the scheduler does for
// a task woken or run there. A task inside klp_ftrace_handler runs with
// preemption disabled: the preemption happens at the handler's
// preempt_enable, so its handler finishes first.
func (s *Sim) preempt(cpu int) {
	cur := s.cpus[cpu].Curr
	if cur == 0 {
		return
	}
	if s.handlerIdx(cur) >= 0 {
		s.drainHandlers(fmt.Sprintf("preempting CPU %d", cpu), func(t *Task) bool { return t.PID != cur })
	}
	if o := s.task(cur); o != nil && o.CPU == cpu {
		o.State, o.CPU = Runnable, -1
	}
	s.cpus[cpu].Curr = 0
}
