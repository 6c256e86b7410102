package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// signalsTimeout is SIGNALS_TIMEOUT: fake signals go out every 15 retries.
const signalsTimeout = 15

func dirName(state int) string {
	if state == Patched {
		return "patching"
	}
	return "unpatching"
}

// initTransition is klp_init_transition.
func (s *Sim) initTransition(pi, state int) {
	s.compactTasks() // walks the tasks
	if s.target != Idle {
		s.warnOnce("klp_init_transition: klp_target_state != KLP_TRANSITION_IDLE", "kernel/livepatch/transition.c", "klp_init_transition", 0)
	}
	s.transition = pi
	s.target = state
	p := &s.patches[pi]
	if s.prof.Callbacks() {
		s.prDebug(ddInit, "'"+p.Mod+"': initializing "+dirName(state)+" transition")
	}
	if p.Immediate {
		// v4.12-v4.15: no per-task states, and no function in transition,
		// so the ftrace handler takes the newest version for every task
		s.step("klp_init_transition: immediate patch: every task stays in %s; no function is in transition", s.prof.StateName(Idle))
		return
	}
	s.step("klp_init_transition: every task starts in %s; target %s", s.prof.StateName(1-state), s.prof.StateName(state))
	initial := 1 - state
	for i := range s.tasks {
		t := &s.tasks[i]
		if t.PatchState != Idle {
			s.warnOnce("klp_init_transition: task->patch_state != KLP_TRANSITION_IDLE", "kernel/livepatch/transition.c", "klp_init_transition", t.PID)
		}
		t.PatchState = initial
		t.Blocked = ""
	}
	for i := range s.idle {
		t := &s.idle[i]
		if t.PatchState != Idle {
			s.warnOnce("klp_init_transition: idle patch_state != KLP_TRANSITION_IDLE", "kernel/livepatch/transition.c", "klp_init_transition", 0)
		}
		t.PatchState = initial
		t.Blocked = ""
	}
	for oi := range p.Objs {
		for fi := range p.Objs[oi].Funcs {
			p.Objs[oi].Funcs[fi].Transition = true
		}
	}
}

// startTransition is klp_start_transition.
func (s *Sim) startTransition() {
	s.compactTasks() // walks the tasks
	if s.target == Idle {
		s.warnOnce("klp_start_transition: klp_target_state == KLP_TRANSITION_IDLE", "kernel/livepatch/transition.c", "klp_start_transition", 0)
	}
	p := &s.patches[s.transition]
	switch {
	case s.muteLog(LevelNotice):
	case s.prof.Callbacks():
		s.klp(LevelNotice, "'%s': starting %s transition", p.Mod, dirName(s.target))
	default:
		s.klp(LevelNotice, "'%s': %s...", p.Mod, dirName(s.target))
	}
	if p.Immediate {
		s.step("klp_start_transition: immediate patch: no TIF_PATCH_PENDING set")
		return
	}
	n := 0
	for i := range s.tasks {
		if t := &s.tasks[i]; t.PatchState != s.target {
			t.PatchPending = true
			n++
		}
	}
	for i := range s.idle {
		if t := &s.idle[i]; t.PatchState != s.target {
			t.PatchPending = true
			n++
		}
	}
	s.step("klp_start_transition: TIF_PATCH_PENDING set on %d tasks", n)
	// (a reversal finds the hook enabled: re-pointing it again is a no-op)
	if (s.prof.CondReschedHook() || s.prof.ScheduleHook()) && !s.schedHook {
		s.schedHook = true
		s.hookTextPoke(true)
	}
	// A task running in user mode now has TIF_PATCH_PENDING set: the next
	// timer tick's return to user mode switches it.
	s.tickWork = true
	s.signalsCnt = 0
}

// updatePatchState is klp_update_patch_state: consume the pending flag at a
// switch point that needs no stack check (kernel exit, idle loop, force).
func (s *Sim) updatePatchState(t *Task, why SwitchReason, how string) bool {
	if !t.PatchPending {
		return false
	}
	t.PatchPending = false
	t.PatchState = s.target
	t.Blocked = ""
	s.switchEvent(t, 1-s.target, why, how)
	return true
}

// switchEvent records one task's patch_state change; how says it in words.
func (s *Sim) switchEvent(t *Task, from int, why SwitchReason, how string) {
	if s.quiet {
		return // dropped anyway: skip the formatting (the explore mode's hot path)
	}
	s.event(Event{Kind: EvSwitch, PID: t.PID, CPU: t.CPU, Text: fmt.Sprintf("%s:%d switched to %s (%s)", t.Comm, t.PID, s.prof.StateName(t.PatchState), how),
		Switch: &Switch{From: from, To: t.PatchState, Reason: why}})
}

// buildCheckTable fills s.scratch so that s.scratch[code] is the index (in
// klp_check_stack's object/function order) of the first function whose
// checked range is that code, or -1. It also returns the old names by index.
// A range is always one whole function, so a lookup per frame replaces the
// kernel's comparison of every frame against every function.
func (s *Sim) buildCheckTable() []string {
	if cap(s.scratch) < len(s.code) {
		s.scratch = make([]int32, len(s.code))
	}
	s.scratch = s.scratch[:len(s.code)]
	for i := range s.scratch {
		s.scratch[i] = -1
	}
	var names []string
	p := &s.patches[s.transition]
	for oi := range p.Objs {
		o := &p.Objs[oi]
		if !o.Patched {
			continue
		}
		for fi := range o.Funcs {
			f := &o.Funcs[fi]
			if f.Discarded || f.Immediate {
				continue // klp_check_stack_func skips an immediate func
			}
			c := s.checkedRange(FuncRef{int32(s.transition), int32(oi), int32(fi)})
			k := int32(len(names))
			names = append(names, f.Old)
			if c != NoCode && s.scratch[c] < 0 {
				s.scratch[c] = k
			}
		}
	}
	return names
}

// checkedRange is the function range klp_check_stack_func compares the
// stack against: the code being removed (unpatching) or the code being
// replaced (patching: the original, or the next entry down the func_stack).
func (s *Sim) checkedRange(r FuncRef) CodeID {
	f := s.fn(r)
	if s.target == Unpatched {
		return f.NewCode
	}
	oi, ok := s.opsByCode[f.OldCode]
	if !ok {
		return f.OldCode
	}
	st := s.ops[oi].Stack
	if len(st) == 1 {
		return f.OldCode
	}
	for i, x := range st {
		if x == r && i+1 < len(st) {
			return s.fn(st[i+1]).NewCode
		}
	}
	return f.OldCode
}

// maxStackEntries is MAX_STACK_ENTRIES: klp_check_stack saves at most
// this many entries, and a reliable walk that finds more fails (-EINVAL).
const maxStackEntries = 100

// checkStack is klp_check_stack with the table built by buildCheckTable.
func (s *Sim) checkStack(t *Task, names []string) (Errno, string) {
	if t.Unreliable || len(t.Stack) > maxStackEntries {
		return EINVAL, ""
	}
	best := int32(-1)
	for _, fr := range t.Stack {
		if k := s.scratch[fr.Code]; k >= 0 && (best < 0 || k < best) {
			best = k
		}
	}
	if best >= 0 {
		return EADDRINUSE, names[best]
	}
	return 0, ""
}

// fastSweep is the first pass of klp_try_complete_transition's loop over
// the threads: it switches each task not yet in target whose stack is
// reliable, not running and clean, and returns the tasks it switched
// (index<<32 | pid: the pid read while the task is in cache, the index to
// merge in task order) and the indices of those the full check must look
// at. It is a function of its own so that its loop keeps everything in
// registers.
func fastSweep(tasks []Task, target int, table []int32, reliable bool, done []uint64, slow []int32) ([]uint64, []int32) {
	for i := range tasks {
		t := &tasks[i]
		if t.PatchState == target {
			continue
		}
		if !reliable || t.Unreliable || t.State == Running || len(t.Stack) > maxStackEntries || !cleanStack(t.Stack, table) {
			slow = append(slow, int32(i))
			continue
		}
		t.PatchPending = false
		t.PatchState = target
		if t.Blocked != "" {
			t.Blocked = ""
		}
		done = append(done, uint64(i)<<32|uint64(uint32(t.PID)))
	}
	return done, slow
}

// cleanStack reports that no frame is in a checked range. It is kept out
// of line: inlined into the sweep's loop, the register allocator spills
// the frame loop's pointer, count and table to memory on every frame,
// which costs more than one call per task.
//
//go:noinline
func cleanStack(st []Frame, table []int32) bool {
	// Four frames per iteration: under WebAssembly every backward jump goes
	// through the function's br_table dispatch, so fewer loop iterations
	// are ~13% faster there (and ~5% natively).
	for len(st) >= 4 {
		if table[st[0].Code] >= 0 || table[st[1].Code] >= 0 || table[st[2].Code] >= 0 || table[st[3].Code] >= 0 {
			return false
		}
		st = st[4:]
	}
	for _, fr := range st {
		if table[fr.Code] >= 0 {
			return false
		}
	}
	return true
}

// isRunningElsewhere reports task_curr(t) for a task other than the one
// running the check, as seen from the CPU running the attempt.
func (s *Sim) isRunningElsewhere(t *Task, callerCPU int) bool {
	if t.Kind == IdleTask {
		c := &s.cpus[t.CPU]
		return c.Online && c.Curr == 0 && t.CPU != callerCPU
	}
	return t.State == Running && t.CPU != callerCPU
}

// trySwitchTask is klp_try_switch_task. current is true when t itself runs
// the check (the scheduler hooks).
func (s *Sim) trySwitchTask(t *Task, names []string, callerCPU int, current bool) bool {
	if t.PatchState == s.target {
		return true
	}
	if !s.reliable {
		t.Blocked = "cannot be checked: this architecture has no reliable stack traces"
		return false
	}
	var ret Errno
	var old string
	if !current && s.isRunningElsewhere(t, callerCPU) {
		ret = EBUSY
	} else {
		ret, old = s.checkStack(t, names)
	}
	switch ret {
	case 0:
		t.PatchPending = false
		t.PatchState = s.target
		t.Blocked = ""
		return true
	}
	s.reportBlocked(t, ret, old)
	return false
}

// reportBlocked records why a task's switch failed (ret from the stack
// check or EBUSY) and prints klp_try_switch_task's (or before v5.16
// klp_check_stack's) debug line for it.
func (s *Sim) reportBlocked(t *Task, ret Errno, old string) {
	// Before v5.16 klp_check_stack formatted its own lines.
	stackFn := "klp_check_stack"
	if s.prof.TaskCallFunc() {
		stackFn = "klp_try_switch_task"
	}
	// "livepatch: %s: %s:%d %s", built by hand: a sweep prints one per
	// blocked task, and fmt would be most of the sweep's slow path.
	var why string
	site := ddSleeping
	switch ret {
	case EBUSY:
		stackFn, why, site = "klp_try_switch_task", "is running", ddRunning
	case EINVAL:
		why, site = "has an unreliable stack", ddUnreliable
	default: // EADDRINUSE
		why = "is sleeping on function " + old
	}
	t.Blocked = why
	if !s.prof.TaskCallFunc() {
		site = ddOldSwitch // pr_debug("%s", err_buf)
	}
	if !s.debugOn(site) {
		return
	}
	s.prDebug(site, stackFn+": "+t.Comm+":"+strconv.Itoa(t.PID)+" "+why)
}

// callerCPU picks the CPU that runs a syscall or the transition work: the
// shell's task's during its syscall, else the first idle online CPU, else
// CPU 0 (whose task is then preempted).
func (s *Sim) callerCPU() int {
	if s.cur != 0 {
		if t := s.task(s.cur); t != nil && t.State == Running {
			return t.CPU // the shell's task, in its syscall
		}
	}
	for _, c := range s.cpus {
		if c.Online && c.Curr == 0 {
			return c.ID
		}
	}
	return 0
}

// tryCompleteTransition is klp_try_complete_transition, in the kernel's
// steps: every thread, then every CPU's idle task, then either a retry
// later or the completion and the freeing of what the patch replaced.
func (s *Sim) tryCompleteTransition() {
	if s.target == Idle {
		s.warnOnce("klp_try_complete_transition: klp_target_state == KLP_TRANSITION_IDLE", "kernel/livepatch/transition.c", "klp_try_complete_transition", 0)
		return
	}
	if s.patches[s.transition].Immediate {
		s.step("klp_try_complete_transition: immediate patch: no task to switch")
		s.transitionDone()
		return
	}
	cpu := s.callerCPU()
	names := s.buildCheckTable()
	var a attempt

	// for_each_process_thread: klp_try_switch_task on each.
	s.switchThreads(names, cpu, &a)

	// Ditto for the idle "swapper" tasks.
	for c := range s.idle {
		t := &s.idle[c]
		if s.cpus[c].Online {
			was := t.PatchState
			if !s.trySwitchTask(t, names, cpu, false) {
				a.left++
				s.wakeUpIfIdle(c)
			} else if was != t.PatchState {
				a.idleSwitched(s, t, "")
				s.switchEvent(t, was, ReasonStackCheck, "stack check")
			}
		} else if t.PatchState != s.target {
			// Offline idle tasks switch at once.
			was := t.PatchState
			t.PatchPending = false
			t.PatchState = s.target
			t.Blocked = ""
			a.idleSwitched(s, t, " (offline)")
			s.switchEvent(t, was, ReasonIdle, "CPU offline: switched at once")
		}
	}
	s.reportAttempt(&a)

	if a.left > 0 {
		if s.prof.AutoSignals() && s.signalsCnt > 0 && s.signalsCnt%signalsTimeout == 0 {
			s.sendSignals(false)
		}
		s.signalsCnt++
		// Try again later, and meanwhile let the other switch points work.
		delay := s.roundJiffiesRelative(uint64(s.hz), cpu)
		fire, lvl := wheelExpiry(s.jiffies, s.jiffies+delay)
		s.workDue = int64(fire)
		s.step("schedule_delayed_work(klp_transition_work, round_jiffies_relative(HZ) = %d jiffies); the timer wheel puts it in a level-%d bucket (granularity %d jiffies): it fires %d jiffies from now", delay, lvl, 1<<(lvl*wheelClkShift), fire-s.jiffies)
		return
	}

	s.transitionDone()
}

// transitionDone is the end of klp_try_complete_transition once no task
// is left: clean up.
func (s *Sim) transitionDone() {
	if s.schedHook {
		s.schedHook = false
		s.hookTextPoke(false)
	}
	pi := s.transition
	if !s.prof.Callbacks() {
		// v4.12-v4.14 print the notice here, so a cancel never does.
		s.klp(LevelNotice, "'%s': %s complete", s.patches[pi].Mod, dirName(s.target))
	}
	s.completeTransition()
	if s.gp.Patch >= 0 {
		return // klp_complete_transition waits (wait.go); endGP frees
	}
	s.freeCompleted(pi)
}

// freeCompleted frees what a completed transition leaves (in
// klp_try_complete_transition's caller rather than in
// klp_complete_transition, which klp_cancel_transition calls too).
func (s *Sim) freeCompleted(pi int) {
	p := &s.patches[pi]
	if s.prof.Registration() {
		return // patches stay registered before v5.1
	}
	if !p.Enabled {
		s.freePatch(pi, true)
	} else if p.Replace {
		// klp_free_replaced_patches_async: the patches listed before
		// the replace patch; one enabled after it (possible once the
		// replace patch's disable was reversed) stays.
		for _, x := range append([]int(nil), s.list...) {
			if x == pi {
				break
			}
			s.freePatch(x, true)
		}
	}
}

// wakeUpIfIdle is wake_up_if_idle (v5.16+): the idle loop passes its switch
// point at the next tick. Older kernels do not kick.
func (s *Sim) wakeUpIfIdle(c int) {
	if !s.prof.TaskCallFunc() || s.cpus[c].Kicked {
		return
	}
	s.cpus[c].Kicked = true
	s.tickWork = true
	s.eventf(Event{Kind: EvTask, CPU: c}, "wake_up_if_idle(%d): kick the idle loop", c)
}

// maxListed is how many switched tasks the attempt's summary names.
const maxListed = 12

// attempt is what one klp_try_complete_transition did, for its summary
// event: the page shows how far the transition got and who just moved.
type attempt struct {
	left, switched int
	named          []string // the first maxListed switched, in task order
}

func (a *attempt) idleSwitched(s *Sim, t *Task, note string) {
	a.switched++
	if len(a.named) < maxListed && !s.quiet {
		a.named = append(a.named, t.Comm+":0"+note)
	}
}

// reportAttempt emits the attempt's summary step event.
func (s *Sim) reportAttempt(a *attempt) {
	s.compactTasks() // walks the tasks
	if s.quiet {
		s.event(Event{Kind: EvStep}) // dropped: skip the text (explore's hot path)
		return
	}
	total := len(s.tasks) + len(s.idle)
	txt := fmt.Sprintf("klp_try_complete_transition: %d of %d tasks in %s", total-a.left, total, s.prof.StateName(s.target))
	if a.switched > 0 {
		more := ""
		if a.switched > len(a.named) {
			more = fmt.Sprintf(" and %d more", a.switched-len(a.named))
		}
		txt += fmt.Sprintf("; switched now: %s%s", strings.Join(a.named, ", "), more)
	}
	s.event(Event{Kind: EvStep, Patch: s.patches[s.transition].Mod, Text: txt})
}

// switchThreads runs klp_try_switch_task on every thread, in two passes
// with the same outcome as one loop: fastSweep switches every task the
// common case decides (a sleeping task whose reliable stack holds no
// checked function; it prints nothing), then the full check runs on the
// rest, with its debug lines in task order. No task's check depends on
// another's state, so the split changes nothing but the speed.
func (s *Sim) switchThreads(names []string, cpu int, a *attempt) {
	s.compactTasks() // walks the tasks
	from := 1 - s.target
	fast, slow := fastSweep(s.tasks, s.target, s.scratch, s.reliable, s.fastIdx[:0], s.slowIdx[:0])
	s.fastIdx, s.slowIdx = fast[:0], slow[:0]
	var slowSw []uint64
	for _, i := range slow {
		t := &s.tasks[i]
		was := t.PatchState
		if !s.trySwitchTask(t, names, cpu, false) {
			a.left++
			continue
		}
		if was != t.PatchState {
			slowSw = append(slowSw, uint64(i)<<32|uint64(uint32(t.PID)))
		}
	}
	n := len(fast) + len(slowSw)
	if n == 0 {
		return
	}
	a.switched += n
	if s.quiet {
		s.event(Event{Kind: EvSwitch}) // dropped: skip the lists and text
		return
	}
	// Both lists ascend: merge them into task order.
	pids := make([]int, 0, n)
	for len(fast) > 0 || len(slowSw) > 0 {
		var x uint64
		if len(slowSw) == 0 || (len(fast) > 0 && fast[0] < slowSw[0]) {
			x, fast = fast[0], fast[1:]
		} else {
			x, slowSw = slowSw[0], slowSw[1:]
		}
		pids = append(pids, int(uint32(x)))
		if len(a.named) < maxListed {
			t := &s.tasks[x>>32]
			a.named = append(a.named, t.Comm+":"+strconv.Itoa(t.PID))
		}
	}
	txt := fmt.Sprintf("klp_try_switch_task: %d tasks switched to %s (stack check): %s", n, s.prof.StateName(s.target), strings.Join(a.named, ", "))
	if n > len(a.named) {
		txt += fmt.Sprintf(" and %d more", n-len(a.named))
	}
	if n == 1 {
		t := s.task(pids[0])
		txt = fmt.Sprintf("%s:%d switched to %s (stack check)", t.Comm, t.PID, s.prof.StateName(s.target))
		s.event(Event{Kind: EvSwitch, PID: t.PID, CPU: t.CPU, Text: txt, Switch: &Switch{From: from, To: s.target, Reason: ReasonStackCheck}})
		return
	}
	s.event(Event{Kind: EvSwitch, Text: txt, Switch: &Switch{From: from, To: s.target, Reason: ReasonStackCheck, PIDs: pids}})
}

// countLeft returns how many tasks (threads and idle tasks) are not yet in
// the target state.
func (s *Sim) countLeft() int {
	if s.immediateTransition() {
		return 0 // no task has anywhere to switch to
	}
	s.compactTasks() // walks the tasks
	left := 0
	for i := range s.tasks {
		if s.tasks[i].PatchState != s.target {
			left++
		}
	}
	for i := range s.idle {
		if s.idle[i].PatchState != s.target {
			left++
		}
	}
	return left
}

// completeTransition is klp_complete_transition.
// completeTransitionNow is completeTransition without waiting for the
// grace period in simulated time.
func (s *Sim) completeTransitionNow() {
	s.noGPWait = true
	defer func() { s.noGPWait = false }()
	s.completeTransition()
}

func (s *Sim) completeTransition() {
	s.compactTasks() // walks the tasks
	pi := s.transition
	p := &s.patches[pi]
	if s.prof.Callbacks() && s.debugOn(ddComplete) {
		s.prDebug(ddComplete, "'"+p.Mod+"': completing "+dirName(s.target)+" transition")
	}
	ops := len(s.ops)
	if p.Replace && s.target == Patched {
		// klp_unpatch_replaced_patches, klp_discard_nops: a function the
		// replace patch drops loses its last func_stack entry (the nop)
		// and its ftrace ops is unregistered, which waits as an unpatch's
		// does (below)
		for _, x := range s.list {
			if x == pi {
				break
			}
			s.patches[x].Enabled = false
			s.unpatchObjects(x, false)
			s.step("klp_unpatch_replaced_patches: %s disabled and removed from every func_stack, without callbacks", s.patches[x].Mod)
		}
		s.discardNops(pi)
	}
	if s.target == Unpatched {
		s.unpatchObjects(pi, false)
	}
	if len(s.ops) < ops && !s.noGPWait {
		// an ftrace ops was unregistered: RCU Tasks first (wait.go)
		s.workDue = -1
		s.startGP(pi)
		return
	}
	if len(s.ops) < ops {
		s.gpInline(pi)
	}
	s.finishComplete(pi)
}

// finishComplete is the rest of klp_complete_transition, after the
// objects were unpatched (and any ftrace ops unregistered).
func (s *Sim) finishComplete(pi int) {
	s.compactTasks() // walks the tasks
	p := &s.patches[pi]
	if s.target == Unpatched {
		s.synchronize("no handler may still see the removed functions")
	}
	if !p.Immediate { // an immediate patch goes straight to the callbacks
		s.resetTasks(p)
	}
	s.completeDone(pi)
}

// resetTasks is the middle of klp_complete_transition: no function in
// transition any more, then every task back to IDLE.
func (s *Sim) resetTasks(p *Patch) {
	for oi := range p.Objs {
		for fi := range p.Objs[oi].Funcs {
			p.Objs[oi].Funcs[fi].Transition = false
		}
	}
	if s.target == Patched {
		s.synchronize("no handler may see IDLE with the transition flag set")
	}
	for i := range s.tasks {
		t := &s.tasks[i]
		if t.PatchPending {
			s.warnOnce("klp_complete_transition: TIF_PATCH_PENDING still set", "kernel/livepatch/transition.c", "klp_complete_transition", t.PID)
		}
		t.PatchState = Idle
		t.Blocked = ""
	}
	for i := range s.idle {
		t := &s.idle[i]
		if t.PatchPending {
			s.warnOnce("klp_complete_transition: idle TIF_PATCH_PENDING still set", "kernel/livepatch/transition.c", "klp_complete_transition", 0)
		}
		t.PatchState = Idle
		t.Blocked = ""
	}
	if !s.mute(EvSwitch) {
		s.event(Event{Kind: EvSwitch, Patch: p.Mod, Text: fmt.Sprintf("klp_complete_transition: every task switched from %s to %s", s.prof.StateName(s.target), s.prof.StateName(Idle)),
			Switch: &Switch{From: s.target, To: Idle, Reason: ReasonComplete}})
	}
}

// completeDone is the end of klp_complete_transition (its done: label):
// the post callbacks, the notice, the module reference.
func (s *Sim) completeDone(pi int) {
	p := &s.patches[pi]
	for oi := range p.Objs {
		if !p.Objs[oi].Loaded {
			continue
		}
		if s.target == Patched {
			s.postPatchCallback(pi, oi)
		} else {
			s.postUnpatchCallback(pi, oi)
		}
	}
	if s.prof.Callbacks() && !s.muteLog(LevelNotice) {
		s.klp(LevelNotice, "'%s': %s complete", p.Mod, dirName(s.target))
	}
	if s.prof.Registration() && s.target == Unpatched {
		// module_put at unpatch completion, unless any transition was
		// ever forced (v4.15-v5.0 global klp_forced); never for an
		// immediate patch or one with an immediate function, whose code a
		// task may still run (v4.12-v4.15).
		if !s.forcedEver && !p.Immediate && !hasImmediateFunc(p) && s.mods[p.Spec].Refcnt > 0 {
			s.mods[p.Spec].Refcnt--
		}
	}
	if !s.mute(EvStep) {
		if p.Immediate {
			s.step("klp_complete_transition: '%s' %s complete; no task ever left %s", p.Mod, dirName(s.target), s.prof.StateName(Idle))
		} else {
			s.step("klp_complete_transition: '%s' %s complete; every task back to %s", p.Mod, dirName(s.target), s.prof.StateName(Idle))
		}
	}
	s.target = Idle
	s.transition = -1
	s.workDue = -1
}

// immediateTransition: the patch in transition is immediate (v4.12-v4.15),
// so every task stays IDLE and none is pending until it completes.
func (s *Sim) immediateTransition() bool {
	return s.transition >= 0 && s.patches[s.transition].Immediate
}

func hasImmediateFunc(p *Patch) bool {
	for oi := range p.Objs {
		for fi := range p.Objs[oi].Funcs {
			if p.Objs[oi].Funcs[fi].Immediate {
				return true
			}
		}
	}
	return false
}

// cancelTransition is klp_cancel_transition: an enable failed after
// klp_init_transition but before klp_start_transition.
func (s *Sim) cancelTransition() {
	if s.target != Patched {
		s.warnOnce("klp_cancel_transition: klp_target_state != KLP_TRANSITION_PATCHED", "kernel/livepatch/transition.c", "klp_cancel_transition", 0)
		return
	}
	if s.prof.Callbacks() {
		s.prDebug(ddCancel, "'"+s.patches[s.transition].Mod+"': canceling patching transition, going to unpatch")
	}
	s.target = Unpatched
	// The grace period of the ftrace ops' unregistering (wait.go) takes
	// no simulated time here: the cancel runs inside the failing insmod,
	// whose error path must not run before it (a simplification).
	s.completeTransitionNow()
}

// reverseTransition is klp_reverse_transition.
func (s *Sim) reverseTransition() {
	s.compactTasks() // walks the tasks
	p := &s.patches[s.transition]
	from := "patching to unpatching"
	if s.target == Unpatched {
		from = "unpatching to patching"
	}
	if s.prof.Callbacks() && s.debugOn(ddReverse) {
		s.prDebug(ddReverse, "'"+p.Mod+"': reversing transition from "+from)
	}
	flip := func() {
		p.Enabled = !p.Enabled
		s.target = 1 - s.target
		if !s.mute(EvStep) {
			s.step("klp_reverse_transition: enabled=%d, target %s", b2i(p.Enabled), s.prof.StateName(s.target))
		}
	}
	clear := func() {
		for i := range s.tasks {
			s.tasks[i].PatchPending = false
		}
		for i := range s.idle {
			s.idle[i].PatchPending = false
		}
		s.step("klp_reverse_transition: TIF_PATCH_PENDING cleared on every task")
		s.synchronize("no switch point may still act on the old target")
	}
	if s.prof.ReverseClearsFirst() {
		clear()
		flip()
	} else {
		flip()
		clear()
	}
	s.startTransition()
}

// forceTransition is klp_force_transition.
func (s *Sim) forceTransition() {
	s.compactTasks() // walks the tasks
	s.klp(LevelWarn, "forcing remaining tasks to the patched state")
	s.usedForce = true
	names := s.buildCheckTable()
	for i := range s.tasks {
		s.forceOne(&s.tasks[i], names)
	}
	for i := range s.idle {
		s.forceOne(&s.idle[i], names)
	}
	p := &s.patches[s.transition]
	if !s.prof.AtomicReplace() {
		s.forcedEver = true
		s.step("klp_force_transition: klp_forced set: no livepatch module can be removed until reboot")
		return
	}
	if s.target == Unpatched {
		p.Forced = true
	} else if p.Replace {
		for _, x := range s.list {
			if x != s.transition {
				s.patches[x].Forced = true
			}
		}
	}
}

func (s *Sim) forceOne(t *Task, names []string) {
	if !t.PatchPending {
		return
	}
	ret, old := s.checkStack(t, names)
	how := "forced"
	if ret == EADDRINUSE {
		how = "forced while sleeping on function " + old + ": consistency no longer guaranteed"
	}
	s.updatePatchState(t, ReasonForce, how)
}

// sendSignals is klp_send_signals.
func (s *Sim) sendSignals(manual bool) {
	s.compactTasks() // walks the tasks
	if manual || s.signalsCnt == signalsTimeout {
		s.klp(LevelNotice, "signaling remaining tasks")
	}
	for i := 0; i < len(s.tasks); i++ {
		t := &s.tasks[i]
		if !t.PatchPending {
			continue
		}
		if t.Kind == Kthread {
			if t.State == Interruptible {
				s.eventf(Event{Kind: EvSignal, PID: t.PID}, "%s:%d woken (wake_up_state TASK_INTERRUPTIBLE); a kthread gets no signal", t.Comm, t.PID)
				s.wakeTask(t)
			} else {
				s.eventf(Event{Kind: EvSignal, PID: t.PID}, "%s:%d is a kthread in %s: not woken", t.Comm, t.PID, t.State)
			}
			continue
		}
		s.fakeSignal(t)
	}
}

// synchronize is klp_synchronize_transition, or synchronize_rcu() in the
// RFC what-if, with the cost each one has on nohz_full CPUs.
func (s *Sim) synchronize(why string) {
	var online, nohz []string
	for _, c := range s.cpus {
		if !c.Online {
			continue
		}
		if !s.quiet {
			online = append(online, strconv.Itoa(c.ID))
		}
		if c.NohzFull {
			nohz = append(nohz, strconv.Itoa(c.ID))
		}
	}
	s.syncs++
	if len(s.inHandler) > 0 {
		if s.prof.RFCSyncRCU {
			// a grace period waits only where RCU is watching
			s.drainHandlers("synchronize_rcu", func(t *Task) bool { return t.NoRCU })
		} else {
			s.drainHandlers("klp_synchronize_transition", nil)
		}
	}
	if !s.prof.RFCSyncRCU {
		// schedule_on_each_cpu waits for a kworker to run on every
		// online CPU: the slowest one's wake-up.
		wait := int64(0)
		for _, c := range s.cpus {
			if c.Online {
				wait = max(wait, kworkerLatency(s.seed+uint64(c.ID+1)*0x9e37, s.jiffies+uint64(s.syncs)))
			}
		}
		s.lat += wait
		s.nohzTouched += len(nohz)
		if !s.mute(EvSync) {
			s.eventf(Event{Kind: EvSync}, "klp_synchronize_transition: schedule_on_each_cpu(klp_sync) ran on CPUs %s (%s); nohz_full CPUs disturbed: %d", strings.Join(online, ","), why, len(nohz))
		}
		return
	}
	s.eventf(Event{Kind: EvSync}, "synchronize_rcu (RFC what-if; %s): waits for a grace period; nohz_full CPUs disturbed: 0", why)

	// The hazard the RFC opens: a handler running where RCU is not
	// watching is not waited for.
	for _, c := range s.cpus {
		if !c.Online || c.Curr == 0 {
			continue
		}
		t := s.task(c.Curr)
		if t == nil || !t.NoRCU {
			continue
		}
		// What the handler may see depends on what this
		// synchronisation protects (see klp_complete_transition).
		risk := "may still use a func_stack entry that is being removed"
		if s.target == Patched {
			risk = "may see a task's patch_state reset to -1 while the function is still in transition"
		}
		for _, fr := range t.Stack {
			if _, ok := s.opsByCode[s.origOf(fr)]; ok || s.code[fr.Code].ForPatch != "" {
				s.hazards++
				s.eventf(Event{Kind: EvHazard, PID: t.PID, CPU: c.ID, Func: s.code[fr.Called].Name}, "RFC hazard: %s:%d on CPU %d runs the ftrace handler for %s where RCU is not watching; synchronize_rcu() does not wait for it, so it %s", t.Comm, t.PID, c.ID, s.code[fr.Called].Name, risk)
				break
			}
		}
	}
	// A normal grace period: a few jiffies on a quiet box, during which
	// the caller sleeps (klp_mutex held). Idle and nohz_full CPUs in user
	// mode are quiescent already; they are not disturbed.
	s.event(Event{Kind: EvWait, Wait: &Wait{What: WaitRCU}, Text: "wait begins: synchronize_rcu waits for a grace period"})
	s.sleepFor(rcuTasksPreGP)
	s.event(Event{Kind: EvWait, Wait: &Wait{What: WaitRCU, End: true}, Text: "wait ends: the grace period is over"})
}

// origOf returns the original function a frame was called as.
func (s *Sim) origOf(fr Frame) CodeID {
	if fr.Called == NoCode || s.code[fr.Called].Dead {
		return NoCode
	}
	return fr.Called
}

// copyProcess is klp_copy_process: the child takes the parent's pending
// flag and patch_state as they are now.
func (s *Sim) copyProcess(child, parent *Task) {
	child.PatchPending = parent.PatchPending
	child.PatchState = parent.PatchState
}

// roundJiffiesRelative is round_jiffies_relative(j) run on cpu: the expiry
// is rounded to a whole second (down if less than a quarter second past
// one), with the per-CPU skew of 3 jiffies, never into the past.
func (s *Sim) roundJiffiesRelative(j uint64, cpu int) uint64 {
	return roundJiffiesRelativeAt(s.jiffies, j, uint64(s.hz), cpu)
}

// nextRetry is when the transition work queued at jiffy now runs.
func (s *Sim) nextRetry(now uint64, cpu int) uint64 {
	fire, _ := wheelExpiry(now, now+roundJiffiesRelativeAt(now, uint64(s.hz), uint64(s.hz), cpu))
	return fire
}

// roundJiffiesRelativeAt is round_jiffies_relative(j) at jiffy now.
func roundJiffiesRelativeAt(now, j, hz uint64, cpu int) uint64 {
	abs := j + now
	orig := abs
	abs += uint64(cpu) * 3
	rem := abs % hz
	if rem < hz/4 {
		abs -= rem
	} else {
		abs = abs - rem + hz
	}
	abs -= uint64(cpu) * 3
	if abs <= now {
		abs = orig
	}
	return abs - now
}

// The timer wheel (kernel/time/timer.c, v4.8+): 64 buckets per level,
// each level 8 times coarser than the one below.
const (
	wheelClkShift = 3
	wheelLvlSize  = 64
	wheelDepth    = 9 // 8 levels below HZ=100, 9 from it; the top one is never reached here
)

// wheelExpiry is when a timer added at jiffy now to expire at expires
// runs: calc_wheel_index picks the level from the distance (a level holds
// what fits in its 63 buckets), and calc_index rounds the expiry up to the
// level's granularity, past expires (a timer never runs early, so the
// bucket after the one expires falls in). The base clock is taken to be
// now: __mod_timer forwards an idle base first. Returns the jiffy and the
// level.
func wheelExpiry(now, expires uint64) (uint64, int) {
	delta := expires - now
	lvl := 0
	for lvl < wheelDepth-1 && delta >= (wheelLvlSize-1)<<(uint(lvl)*wheelClkShift) {
		lvl++
	}
	shift := uint(lvl) * wheelClkShift
	return ((expires >> shift) + 1) << shift, lvl
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
