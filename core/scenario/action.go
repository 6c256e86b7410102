package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

// actionVerbs are what the box does by itself: tasks calling, sleeping and
// forking, CPUs going on and off line, time passing.
var actionVerbs = []Verb{
	{Name: "call", Min: 2, Usage: "call PID f1 [f2+0x10 …] [split|split=transition]", Run: onTask((*Session).call), Complete: args(cFrames, cPIDs),
		Doc: "the task calls each function in turn (through the ftrace handler); enters the kernel if in user mode; `split` stops the last call inside klp_ftrace_handler after its func_stack read (`split=transition`: after its transition flag read too), so other commands can run before `call-finish`"},
	{Name: "call-finish", Min: 1, Usage: "call-finish PID", Run: onTask(func(s *Session, pid int, st Stmt, out []Out) ([]Out, error) {
		return s.simErr(st, out, s.sim.Step(sim.CallFinish{PID: pid}))
	}), Complete: args(nil, cPIDs),
		Doc: "a `call … split` goes on: the ftrace handler's remaining reads, then the code it picked runs"},
	{Name: "read", Min: 2, Usage: "read PID PATH", Run: onTask((*Session).read), Complete: args(nil, cPIDs),
		Doc: "the task reads a file: for one that code produces (`file`), it calls the function through the ftrace handler, prints what the version that ran produces, returns, and if it came from user mode goes back through kernel exit"},
	{Name: "ret", Min: 1, Usage: "ret PID [N]", Run: onTask((*Session).ret), Complete: args(nil, cPIDs),
		Doc: "return from N frames (default 1)"},
	{Name: "block", Min: 1, Usage: "block PID [S|D] [freezable]", Run: onTask((*Session).block), Complete: args(nil, cPIDs, words("S", "D", "freezable")),
		Doc: "the task sleeps where it is (default S, interruptible)"},
	{Name: "wake", Min: 1, Usage: "wake PID", Run: onTask(simCall((*sim.Sim).Wake)), Complete: args(nil, cPIDs),
		Doc: "a sleeping task becomes runnable"},
	{Name: "run", Min: 2, Usage: "run PID cpu=N", Run: onTask((*Session).run), Complete: args(nil, cPIDs, words("cpu=")),
		Doc: "put a runnable task on a CPU"},
	{Name: "syscall", Min: 1, Usage: "syscall PID", Run: onTask(simCall((*sim.Sim).SyscallEnter)), Complete: args(nil, cPIDs),
		Doc: "enter the kernel"},
	{Name: "sysret", Min: 1, Usage: "sysret PID", Run: onTask(simCall((*sim.Sim).SyscallExit)), Complete: args(nil, cPIDs),
		Doc: "return to user space (the kernel-exit switch point)"},
	{Name: "fork", Min: 1, Usage: "fork PID [child=N] [comm=NAME] [thread] [dup-only]", Run: onTask((*Session).fork), Complete: args(nil, cPIDs, words("child=", "comm=", "thread", "dup-only")),
		Doc: "klp_copy_process semantics; `dup-only` (with `child=`) stops after dup_task_struct copied the thread flags, so other commands can run before `fork-finish` (the parent itself, inside copy_process, does nothing else meanwhile)"},
	{Name: "fork-finish", Min: 1, Usage: "fork-finish CHILD", Run: onTask(func(s *Session, pid int, st Stmt, out []Out) ([]Out, error) {
		return s.simErr(st, out, s.sim.Step(sim.ForkFinish{Child: pid}))
	}),
		Doc: "a `fork … dup-only` goes on: klp_copy_process, and the child joins the task list"},
	{Name: "exit", Min: 1, Usage: "exit PID", Run: onTask(simCall((*sim.Sim).Exit)), Complete: args(nil, cPIDs),
		Doc: "the task exits"},
	{Name: "cond_resched", Min: 1, Usage: "cond_resched PID [split]", Run: onTask((*Session).condResched), Complete: args(nil, cPIDs, words("split")),
		Doc: "a running kernel task calls cond_resched(); from v6.4 to v6.15 its livepatch hook may switch the task. `split` stops the hook after it loaded klp_target_state for its compare and final store, before its stack check (nothing orders those loads: a weakly ordered CPU or the compiler may load the store's value first), so other commands can run before `cond_resched-finish`"},
	{Name: "cond_resched-finish", Min: 1, Usage: "cond_resched-finish PID", Run: onTask(func(s *Session, pid int, st Stmt, out []Out) ([]Out, error) {
		return s.simErr(st, out, s.sim.Step(sim.CondReschedFinish{PID: pid}))
	}), Complete: args(nil, cPIDs),
		Doc: "a `cond_resched … split` goes on: the stack check against klp_target_state as it is now, then the store of the value loaded before"},
	{Name: "ptrace", Min: 2, Usage: "ptrace PID attach|detach", Run: onTask((*Session).ptrace), Complete: args(nil, cPIDs, words("attach", "detach")),
		Doc: "PTRACE_ATTACH (its SIGSTOP stops the task where SIGSTOP would, in a ptrace stop: `get_signal`, `ptrace_signal`, `ptrace_stop`, `schedule` where declared) or PTRACE_DETACH (resumes a task in a ptrace stop; `ESRCH` otherwise)"},
	{Name: "unreliable", Min: 2, Usage: "unreliable PID on|off", Run: onTask(onOff((*sim.Sim).SetUnreliable)), Complete: args(nil, cPIDs, words("on", "off")),
		Doc: "mark the task's stack unreliable, or reliable again"},
	{Name: "norcu", Min: 2, Usage: "norcu PID on|off", Run: onTask(onOff((*sim.Sim).SetNoRCU)), Complete: args(nil, cPIDs, words("on", "off")),
		Doc: "mark the task as running where RCU is not watching, or not"},
	{Name: "cpu", Min: 2, Usage: "cpu N online|offline", Run: (*Session).cpu, Complete: args(nil, cCPUs, words("online", "offline")),
		Doc: "CPU hotplug"},
	{Name: "tick", Min: 0, Usage: "tick [N]", Run: whole((*Session).tick), Parts: (*Session).tick,
		Doc: "N jiffies pass (default 1)"},
	{Name: "settle", Min: 0, Usage: "settle [SECONDS]", Run: whole((*Session).settle), Parts: (*Session).settle,
		Doc: "run until no transition is in progress (default limit 60 s)"},
	{Name: "until", Min: 1, Usage: `until KIND ["TEXT"] [pid=N] [cpu=N] [reason=R] [to=S] [patch=P] [wait=begin|end] [within=SECONDS]`, Run: whole((*Session).until), Parts: (*Session).until, Complete: args(words("within=", "pid=", "cpu=", "reason=", "to=", "patch=", "wait="), cEvents),
		Doc: "run until a new event that `expect event` with the same words would match happens (its kind, text and typed fields), at most SECONDS (default 60); time stops at the end of that jiffy, and a note says when it came or that it did not. `until signal` jumps to the next fake signal; `until switch pid=42` to task 42's switch, `until switch reason=fake-signal` to the next one a fake signal caused, `until wait wait=end` to the end of a grace period"},
	{Name: "spawn-random", Min: 1, Usage: "spawn-random N [frames=16] [seed=…]", Run: whole((*Session).spawnRandom), Parts: (*Session).spawnRandom,
		Doc: "N user tasks with random stacks over vmlinux functions"},
}

// onTask makes the run function of a verb whose first argument is a pid.
func onTask(do func(s *Session, pid int, st Stmt, out []Out) ([]Out, error)) func(*Session, Stmt, []Out) ([]Out, error) {
	return func(s *Session, st Stmt, out []Out) ([]Out, error) {
		pid, err := s.pid(st.Args[0])
		if err != nil {
			return nil, err
		}
		return do(s, pid, st, out)
	}
}

// simCall is a task verb that is one call into the machine.
func simCall(f func(m *sim.Sim, pid int) error) func(*Session, int, Stmt, []Out) ([]Out, error) {
	return func(s *Session, pid int, st Stmt, out []Out) ([]Out, error) {
		return s.simErr(st, out, f(s.sim, pid))
	}
}

// onOff is a task verb that sets a mark: "VERB PID on|off".
func onOff(f func(m *sim.Sim, pid int, on bool) error) func(*Session, int, Stmt, []Out) ([]Out, error) {
	return func(s *Session, pid int, st Stmt, out []Out) ([]Out, error) {
		on := st.Args[1].Val
		if on != "on" && on != "off" {
			return nil, s.errf(st.Args[1].Pos, "%s PID on|off", st.Verb)
		}
		return s.simErr(st, out, f(s.sim, pid, on == "on"))
	}
}

// simErr reports what the machine refused at the statement's position,
// after what the statement printed so far.
func (s *Session) simErr(st Stmt, out []Out, err error) ([]Out, error) {
	if err != nil {
		return out, s.errf(st.Pos, "%v", err)
	}
	return out, nil
}

func (s *Session) tick(st Stmt, out []Out) (part, error) {
	a := st.Args
	n := uint64(1)
	if len(a) > 0 {
		v, err := s.num(a[0])
		if err != nil {
			return nil, err
		}
		n = v
	}
	if n > 1<<20 {
		return nil, s.errf(a[0].Pos, "tick: at most %d jiffies at once", 1<<20)
	}
	return s.advanceParts(n, out), nil
}

// advanceParts lets n jiffies pass, a simulated second per unit: at most
// one transition-work retry (one sweep of the tasks) each. Advancing in
// pieces is the same as advancing at once (sim.Advance stops only where
// something falls due).
func (s *Session) advanceParts(n uint64, out []Out) part {
	return func(units int) ([]Out, bool, error) {
		step := uint64(s.sim.HZ())
		for ; units > 0 && n > 0; units-- {
			k := min(n, step)
			s.sim.Advance(k)
			n -= k
		}
		return out, n == 0, nil
	}
}

func (s *Session) settle(st Stmt, out []Out) (part, error) {
	m := s.sim
	a := st.Args
	sec := 60.0
	if len(a) > 0 {
		var ok bool
		if sec, ok = parseSeconds(a[0].Val); !ok {
			return nil, s.errf(a[0].Pos, "settle takes a time limit in seconds (0..3600), got %q", a[0].Val)
		}
	}
	left := uint64(sec * float64(m.HZ()))
	// Like advanceParts, a second per unit; RunUntilSettled in pieces
	// stops where it would have stopped at once.
	return func(units int) ([]Out, bool, error) {
		step := uint64(m.HZ())
		for ; units > 0; units-- {
			k := min(left, step)
			if m.RunUntilSettled(k) {
				return out, true, nil
			}
			if left -= k; left == 0 {
				out = s.drain(out) // the note comes after what happened
				name, _ := m.InTransition()
				out = append(out, Out{Kind: "note", Text: fmt.Sprintf("transition of %s still in progress after %gs", name, sec)})
				return out, true, nil
			}
		}
		return out, false, nil
	}, nil
}

func (s *Session) cpu(st Stmt, out []Out) ([]Out, error) {
	a := st.Args
	n, err := s.num(a[0])
	if err != nil {
		return nil, err
	}
	switch a[1].Val {
	case "online", "offline":
		if err := s.sim.SetCPUOnline(int(n), a[1].Val == "online"); err != nil {
			return s.simErr(st, out, fmt.Errorf("cpu %d: %v", n, err))
		}
		return out, nil
	}
	return nil, s.errf(a[1].Pos, "cpu N online|offline")
}

func (s *Session) call(pid int, st Stmt, out []Out) ([]Out, error) {
	args := st.Args[1:]
	// a last word split (or split=transition) stops the last call inside
	// the ftrace handler, between its reads
	split, after := false, false
	if n := len(args); n > 1 {
		switch x := args[n-1]; {
		case x.Key == "" && x.Val == "split":
			split, args = true, args[:n-1]
		case x.Key == "split" && x.Val == "transition":
			split, after, args = true, true, args[:n-1]
		case x.Key == "split":
			return nil, s.errf(x.Pos, "split=%s: want split (stop after the func_stack read) or split=transition (after the transition flag's)", x.Val)
		}
	}
	for i, x := range args {
		if x.Key != "" {
			return nil, s.errf(x.Pos, "call: unexpected %s=%s (a frame is FUNC or FUNC+0xOFF; split goes last)", x.Key, x.Val)
		}
		f, err := sim.ParseFrame(x.Val)
		if err != nil {
			return nil, s.errf(x.Pos, "%v", err)
		}
		if split && i == len(args)-1 {
			err = s.sim.Step(sim.CallBegin{PID: pid, Func: f.Func, Off: f.Off, AfterTransition: after})
		} else {
			err = s.sim.Call(pid, f.Func, f.Off)
		}
		if err != nil {
			return out, s.errf(x.Pos, "%v", err)
		}
	}
	return out, nil
}

func (s *Session) read(pid int, st Stmt, out []Out) ([]Out, error) {
	for _, x := range st.Args[1:] {
		data, err := s.sim.ReadAs(pid, x.Val)
		if fe, ok := err.(*sim.FSError); ok {
			out = s.fail(out, sim.ErrnoOf(fe), fmt.Sprintf("cat: %s: %s", x.Val, sim.ErrnoOf(fe).Error()))
			continue
		}
		if err != nil {
			return out, s.errf(x.Pos, "%v", err)
		}
		for _, l := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
			out = append(out, Out{Kind: "stdout", Text: l})
		}
	}
	return out, nil
}

func (s *Session) ret(pid int, st Stmt, out []Out) ([]Out, error) {
	a := st.Args
	n := 1
	if len(a) > 1 {
		v, err := strconv.Atoi(a[1].Val)
		if err != nil || v < 1 {
			return nil, s.errf(a[1].Pos, "ret PID [N]: N must be a positive number")
		}
		n = v
	}
	for i := 0; i < n; i++ {
		if err := s.sim.Return(pid); err != nil {
			return s.simErr(st, out, err)
		}
	}
	return out, nil
}

func (s *Session) block(pid int, st Stmt, out []Out) ([]Out, error) {
	d, fr := false, false
	for _, x := range st.Args[1:] {
		switch x.Val {
		case "S", "interruptible":
		case "D", "uninterruptible":
			d = true
		case "freezable":
			fr = true
		default:
			return nil, s.errf(x.Pos, "block PID [S|D] [freezable], got %q", x.Val)
		}
	}
	return s.simErr(st, out, s.sim.Sleep(pid, d, fr))
}

func (s *Session) run(pid int, st Stmt, out []Out) ([]Out, error) {
	x := st.Args[1]
	if x.Key != "cpu" {
		return nil, s.errf(x.Pos, "run PID cpu=N")
	}
	c, err := s.num(x)
	if err != nil {
		return nil, err
	}
	return s.simErr(st, out, s.sim.Run(pid, int(c)))
}

func (s *Session) fork(pid int, st Stmt, out []Out) ([]Out, error) {
	child, comm, thread, dupOnly := 0, "", false, false
	for _, x := range st.Args[1:] {
		switch {
		case x.Key == "" && x.Val == "dup-only":
			dupOnly = true
		case x.Key == "child":
			v, err := s.pid(x)
			if err != nil {
				return nil, err
			}
			child = v
		case x.Key == "comm":
			comm = x.Val
		case x.Key == "" && x.Val == "thread":
			thread = true
		default:
			return nil, s.unknownKey(x, "child", "comm", "thread", "dup-only")
		}
	}
	if dupOnly {
		if child == 0 {
			return nil, s.errf(st.Pos, "fork … dup-only needs child=N, the pid fork-finish names")
		}
		return s.simErr(st, out, s.sim.Step(sim.ForkBegin{PID: pid, Child: child, Comm: comm, Thread: thread}))
	}
	c, err := s.sim.Fork(pid, child, comm, thread)
	if err != nil {
		return s.simErr(st, out, err)
	}
	if s.quiet {
		return out, nil // nobody reads the note (explore's hot path)
	}
	return append(out, Out{Kind: "note", Text: fmt.Sprintf("forked pid %d", c)}), nil
}

func (s *Session) ptrace(pid int, st Stmt, out []Out) ([]Out, error) {
	switch st.Args[1].Val {
	case "attach", "detach":
		return s.simErr(st, out, s.sim.Trace(pid, st.Args[1].Val == "attach"))
	}
	return nil, s.errf(st.Args[1].Pos, "ptrace PID attach|detach")
}

// spawnRandom adds N user tasks with random kernel stacks drawn from the
// scenario's seed, spawnChunk of them per unit.
func (s *Session) spawnRandom(st Stmt, out []Out) (part, error) {
	m := s.sim
	n, err := s.num(st.Args[0])
	if err != nil {
		return nil, err
	}
	if n > 100000 {
		return nil, s.errf(st.Args[0].Pos, "spawn-random: at most 100000 tasks")
	}
	frames := uint64(16)
	for _, x := range st.Args[1:] {
		if x.Key != "frames" {
			return nil, s.unknownKey(x, "frames")
		}
		v, err := s.num(x)
		if err != nil || v > 64 {
			return nil, s.errf(x.Pos, "frames must be 0..64")
		}
		frames = v
	}
	var names []string
	for _, f := range m.FuncNames() {
		if _, _, err := m.ResolveFunc(f); err == nil {
			names = append(names, f)
		}
	}
	if len(names) == 0 && frames > 0 {
		return nil, s.errf(st.Pos, "spawn-random: declare some vmlinux functions first")
	}
	i := uint64(0)
	return func(units int) ([]Out, bool, error) {
		for end := min(n, i+uint64(units)*spawnChunk); i < end; i++ {
			ts := sim.TaskSpec{Comm: fmt.Sprintf("task%d", i), State: sim.Interruptible}
			for j := uint64(0); j < frames; j++ {
				ts.Stack = append(ts.Stack, sim.FrameSpec{Func: names[m.Rand()%uint64(len(names))]})
			}
			if frames == 0 {
				ts.State, ts.User = sim.Runnable, true
			}
			if _, err := m.Spawn(ts); err != nil {
				return out, true, s.errf(st.Pos, "%v", err)
			}
		}
		return out, i == n, nil
	}, nil
}

// spawnChunk is how many tasks spawn-random makes per unit of a part.
const spawnChunk = 1000

// parseSeconds reads a duration in seconds between 0 and 3600: "2",
// "0.5", and, as people type it, "2s". strconv rather than fmt.Sscanf,
// whose scanner would add ~28 KB to the wasm; NaN and Inf are refused.
func parseSeconds(v string) (float64, bool) {
	sec, err := strconv.ParseFloat(strings.TrimSuffix(v, "s"), 64)
	if err != nil || !(sec >= 0 && sec <= 3600) {
		return 0, false
	}
	return sec, true
}

// until runs "until KIND [TEXT] [within=SECONDS]": time passes until an
// event of that kind (whose text contains TEXT) happens, 60 s at most.
func (s *Session) until(st Stmt, out []Out) (part, error) {
	sec := 60.0
	f, err := s.eventFilter("until", st.Args, func(x Arg) (bool, error) {
		if x.Key != "within" {
			return false, nil
		}
		var ok bool
		if sec, ok = parseSeconds(x.Val); !ok {
			return true, s.errf(x.Pos, "until: within= takes seconds (0..3600), got %q", x.Val)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	kind := f.Kind
	m := s.sim
	start := m.Now()
	left := uint64(sec*float64(m.HZ()) + 0.5)
	match := f.Match
	what := describeFilter(st.Args)
	// A simulated second per unit, like advanceParts: RunUntil in pieces
	// stops where it would have stopped at once.
	return func(units int) ([]Out, bool, error) {
		for ; units > 0; units-- {
			k := min(left, uint64(m.HZ()))
			e, ok := m.RunUntil(k, match)
			if ok {
				out = s.drain(out) // the note comes after what happened
				waited := float64(m.Now()-start) / 1e9
				return append(out, Out{Kind: "note", Text: fmt.Sprintf("%s event after %.3fs: %s", kind, waited, e.Text)}), true, nil
			}
			if left -= k; left == 0 {
				out = s.drain(out)
				return append(out, Out{Kind: "note", Text: fmt.Sprintf("no %s event within %gs", what, sec)}), true, nil
			}
		}
		return out, false, nil
	}, nil
}

// eventKind reads an event kind, suggesting the nearest on a typo.
func (s *Session) eventKind(a Arg) (sim.EventKind, error) {
	names := EventKinds()
	if slices.Contains(names, a.Val) {
		return sim.EventKind(a.Val), nil
	}
	msg := fmt.Sprintf("unknown event kind %q (want one of %s)", a.Val, strings.Join(names, ", "))
	if n := nearest(a.Val, names); n != "" {
		msg = fmt.Sprintf("unknown event kind %q (did you mean %q?)", a.Val, n)
	}
	return "", s.errf(a.Pos, "%s", msg)
}

// condResched is `cond_resched PID [split]`.
func (s *Session) condResched(pid int, st Stmt, out []Out) ([]Out, error) {
	split := false
	for _, x := range st.Args[1:] {
		if x.Key != "" || x.Val != "split" || split {
			return nil, s.errf(x.Pos, "cond_resched PID [split]: unexpected %q", argText(x))
		}
		split = true
	}
	return s.simErr(st, out, s.sim.Step(sim.CondResched{PID: pid, Split: split}))
}

// argText is an argument as written.
func argText(a Arg) string {
	if a.Key != "" {
		return a.Key + "=" + a.Val
	}
	return a.Val
}
