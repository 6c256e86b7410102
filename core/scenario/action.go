package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

// action runs what the box does by itself.
func (s *Session) action(st Stmt) ([]Out, error) {
	out := []Out{{Kind: "cmd", Text: "# " + st.line()}}
	m := s.sim
	a := st.Args
	wrap := func(err error) ([]Out, error) {
		if err != nil {
			return out, s.errf(st.Pos, "%v", err)
		}
		return out, nil
	}
	switch st.Verb {
	case "tick":
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
		m.Advance(n)
		return out, nil
	case "settle":
		sec := 60.0
		if len(a) > 0 {
			var ok bool
			if sec, ok = parseSeconds(a[0].Val); !ok {
				return nil, s.errf(a[0].Pos, "settle takes a time limit in seconds (0..3600), got %q", a[0].Val)
			}
		}
		if !m.RunUntilSettled(uint64(sec * float64(m.HZ()))) {
			out = s.drain(out) // the note comes after what happened
			name, _ := m.InTransition()
			out = append(out, Out{Kind: "note", Text: fmt.Sprintf("transition of %s still in progress after %gs", name, sec)})
		}
		return out, nil
	case "until":
		return s.until(st, out)
	case "cpu":
		n, err := s.num(a[0])
		if err != nil {
			return nil, err
		}
		switch a[1].Val {
		case "online", "offline":
			if err := m.SetCPUOnline(int(n), a[1].Val == "online"); err != nil {
				return wrap(fmt.Errorf("cpu %d: %v", n, err))
			}
			return out, nil
		}
		return nil, s.errf(a[1].Pos, "cpu N online|offline")
	case "spawn-random":
		return s.spawnRandom(st, out)
	}
	pid, err := s.pid(a[0])
	if err != nil {
		return nil, err
	}
	switch st.Verb {
	case "call":
		for _, x := range a[1:] {
			f, err := sim.ParseFrame(x.Val)
			if err != nil {
				return nil, s.errf(x.Pos, "%v", err)
			}
			if err := m.Call(pid, f.Func, f.Off); err != nil {
				return out, s.errf(x.Pos, "%v", err)
			}
		}
		return out, nil
	case "ret":
		n := 1
		if len(a) > 1 {
			v, err := strconv.Atoi(a[1].Val)
			if err != nil || v < 1 {
				return nil, s.errf(a[1].Pos, "ret PID [N]: N must be a positive number")
			}
			n = v
		}
		for i := 0; i < n; i++ {
			if err := m.Return(pid); err != nil {
				return wrap(err)
			}
		}
		return out, nil
	case "block":
		d, fr := false, false
		for _, x := range a[1:] {
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
		return wrap(m.Sleep(pid, d, fr))
	case "wake":
		return wrap(m.Wake(pid))
	case "run":
		x := a[1]
		if x.Key != "cpu" {
			return nil, s.errf(x.Pos, "run PID cpu=N")
		}
		c, err := s.num(x)
		if err != nil {
			return nil, err
		}
		return wrap(m.Run(pid, int(c)))
	case "syscall":
		return wrap(m.SyscallEnter(pid))
	case "sysret":
		return wrap(m.SyscallExit(pid))
	case "fork":
		child, comm, thread := 0, "", false
		for _, x := range a[1:] {
			switch {
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
				return nil, s.unknownKey(x, "child", "comm", "thread")
			}
		}
		c, err := m.Fork(pid, child, comm, thread)
		if err != nil {
			return wrap(err)
		}
		return append(out, Out{Kind: "note", Text: fmt.Sprintf("forked pid %d", c)}), nil
	case "exit":
		return wrap(m.Exit(pid))
	case "cond_resched":
		return wrap(m.CondResched(pid))
	case "ptrace":
		switch a[1].Val {
		case "attach", "detach":
			return wrap(m.Trace(pid, a[1].Val == "attach"))
		}
		return nil, s.errf(a[1].Pos, "ptrace PID attach|detach")
	case "unreliable", "norcu":
		on := a[1].Val
		if on != "on" && on != "off" {
			return nil, s.errf(a[1].Pos, "%s PID on|off", st.Verb)
		}
		if st.Verb == "unreliable" {
			return wrap(m.SetUnreliable(pid, on == "on"))
		}
		return wrap(m.SetNoRCU(pid, on == "on"))
	}
	return nil, s.errf(st.Pos, "unknown command %q", st.Verb)
}

// spawnRandom adds N user tasks with random kernel stacks drawn from the
// scenario's seed.
func (s *Session) spawnRandom(st Stmt, out []Out) ([]Out, error) {
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
	for i := uint64(0); i < n; i++ {
		ts := sim.TaskSpec{Comm: fmt.Sprintf("task%d", i), State: sim.Interruptible}
		for j := uint64(0); j < frames; j++ {
			ts.Stack = append(ts.Stack, sim.FrameSpec{Func: names[m.Rand()%uint64(len(names))]})
		}
		if frames == 0 {
			ts.State, ts.User = sim.Runnable, true
		}
		if _, err := m.Spawn(ts); err != nil {
			return out, s.errf(st.Pos, "%v", err)
		}
	}
	return out, nil
}

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
func (s *Session) until(st Stmt, out []Out) ([]Out, error) {
	kind, err := s.eventKind(st.Args[0])
	if err != nil {
		return nil, err
	}
	text, sec := "", 60.0
	for _, x := range st.Args[1:] {
		switch {
		case x.Key == "within":
			var ok bool
			if sec, ok = parseSeconds(x.Val); !ok {
				return nil, s.errf(x.Pos, "until: within= takes seconds (0..3600), got %q", x.Val)
			}
		case x.Key != "":
			return nil, s.errf(x.Pos, "until: unknown option %s= (want within=SECONDS)", x.Key)
		case text != "":
			return nil, s.errf(x.Pos, "until takes one text to look for; quote it if it has spaces")
		default:
			text = x.Val
		}
	}
	m := s.sim
	start := m.Now()
	e, ok := m.RunUntil(uint64(sec*float64(m.HZ())+0.5), func(e sim.Event) bool {
		return e.Kind == kind && e.Matches(text)
	})
	what := string(kind)
	if text != "" {
		what += " " + strconv.Quote(text)
	}
	out = s.drain(out) // the note comes after what happened
	if !ok {
		return append(out, Out{Kind: "note", Text: fmt.Sprintf("no %s event within %gs", what, sec)}), nil
	}
	waited := float64(m.Now()-start) / 1e9
	return append(out, Out{Kind: "note", Text: fmt.Sprintf("%s event after %.3fs: %s", kind, waited, e.Text)}), nil
}

// eventKind reads an event kind, suggesting the nearest on a typo.
func (s *Session) eventKind(a Arg) (sim.EventKind, error) {
	var names []string
	for _, k := range sim.EventKinds() {
		if string(k) == a.Val {
			return k, nil
		}
		names = append(names, string(k))
	}
	msg := fmt.Sprintf("unknown event kind %q (want one of %s)", a.Val, strings.Join(names, ", "))
	if n := nearest(a.Val, names); n != "" {
		msg = fmt.Sprintf("unknown event kind %q (did you mean %q?)", a.Val, n)
	}
	return "", s.errf(a.Pos, "%s", msg)
}
