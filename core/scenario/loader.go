package scenario

import (
	"fmt"
	"math"
)

// part is a statement running a bounded amount at a time: each call runs
// about units units of work (spawnChunk tasks made, or a simulated second
// with at most one sweep of the tasks), and reports whether the statement
// is finished; out is its whole output once it is.
type part func(units int) (out []Out, done bool, err error)

// whole runs a verb's Parts to the end, which is its Run.
func whole(parts func(*Session, Stmt, []Out) (part, error)) func(*Session, Stmt, []Out) ([]Out, error) {
	return func(s *Session, st Stmt, out []Out) ([]Out, error) {
		p, err := parts(s, st, out)
		if err != nil {
			return nil, err
		}
		out, _, err = p(math.MaxInt32)
		return out, err
	}
}

// runner runs statements on a session a bounded amount at a time: plain
// statements whole, the long ones in parts. It stops at the first error,
// as Session.Exec does, keeping what ran before it.
type runner struct {
	s     *Session
	stmts []Stmt
	next  int // the statement to start next
	out   []Out
	// the statement running in parts, if any
	cur   part
	curSt Stmt
	used  Usage
}

// run does about units units of work (a plain statement counts as one)
// and reports whether all statements have run.
func (r *runner) run(units int) (done bool, err error) {
	for units > 0 {
		if r.cur != nil {
			o, fin, e := r.cur(units)
			units = 0 // a part uses what it is given
			if fin || e != nil {
				o, e = r.s.end(r.curSt, r.used, o, e)
				r.out = append(r.out, o...)
				r.cur = nil
				if e != nil {
					return true, e
				}
			}
			continue
		}
		if r.next == len(r.stmts) {
			return true, nil
		}
		st := r.stmts[r.next]
		r.next++
		units--
		if e := r.start(st); e != nil {
			return true, e
		}
	}
	return r.cur == nil && r.next == len(r.stmts), nil
}

// start begins a statement: a plain one runs whole, a long one becomes
// r.cur.
func (r *runner) start(st Stmt) error {
	s := r.s
	used, err := s.begin(st)
	if err != nil {
		return err
	}
	v, out, err := s.prologue(st)
	if err == nil && v.group != groupConfig {
		if v.Parts != nil {
			var p part
			if p, err = v.Parts(s, st, out); err == nil {
				r.cur, r.curSt, r.used = p, st, used
				return nil
			}
			out = nil
		} else {
			out, err = v.Run(s, st, out)
		}
	}
	out, err = s.end(st, used, out, err)
	r.out = append(r.out, out...)
	return err
}

// Loader runs a scenario as NewTimeline does, but a bounded amount of work
// per Run, so that a page can run a big share link between frames and
// stay responsive: the scenario is parsed and priced against the default
// budget first (nothing runs when it is over), plain statements run whole,
// and the long ones (spawn-random, tick, sleep, settle) in parts. Running
// it to the end in any slices gives what NewTimeline gives: the same
// source, output and state.
type Loader struct {
	file string
	r    runner
	err  error
	tl   *Timeline
}

// NewLoader parses and prices src; it runs nothing yet.
func NewLoader(file, src string) (*Loader, error) {
	if _, err := Cost(file, src, DefaultBudget()); err != nil {
		return nil, err
	}
	sc, err := Parse(file, src)
	if err != nil {
		return nil, err
	}
	s := &Session{file: file, budget: DefaultBudget()}
	return &Loader{file: file, r: runner{s: s, stmts: sc.Stmts}}, nil
}

// Run does about units units of work and reports whether the scenario has
// finished. An error ends it: as with NewSession, nothing of a failed
// scenario is kept.
func (l *Loader) Run(units int) (done bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			l.err = &InternalError{Msg: fmt.Sprintf("internal error in the simulator while loading: %v", r)}
			l.r.s = nil
			done, err = true, l.err
		}
	}()
	if l.err != nil || l.tl != nil {
		return true, l.err
	}
	done, err = l.r.run(units)
	if err == nil && done {
		err = l.r.s.ensure(Pos{File: l.file, Line: 1, Col: 1})
	}
	if err != nil {
		l.err = err
		l.r.s = nil
		return true, err
	}
	if done {
		l.tl = &Timeline{cur: l.r.s, pos: -1, start: l.r.out}
	}
	return done, nil
}

// Progress is how many statements have started, of how many.
func (l *Loader) Progress() (started, total int) { return l.r.next, len(l.r.stmts) }

// Timeline is the loaded timeline, once Run has reported done without an
// error; nil before.
func (l *Loader) Timeline() *Timeline { return l.tl }

// ExecRun is Timeline.Exec a slice at a time (Timeline.Start), for console
// input that may take long (spawn-random 100000, sleep 3600 with a
// hundred thousand tasks blocking a transition).
type ExecRun struct {
	t          *Timeline
	r          runner
	before     int
	label      string
	checkpoint bool
	done       bool
	err        error
}

// Start parses console input (see Session.Exec) to run with ExecRun.Run.
// Until it is done the timeline must not be changed otherwise.
func (t *Timeline) Start(text string, checkpoint bool) (*ExecRun, error) {
	stmts, err := ParseLine(text)
	if err != nil {
		return nil, err
	}
	return &ExecRun{t: t, r: runner{s: t.cur, stmts: stmts}, before: len(t.cur.src), label: firstLine(text), checkpoint: checkpoint}, nil
}

// Run does about units units of work. When done, out is everything the
// input printed and err its scenario error, as Exec returns them (and a
// checkpoint is stored when something was applied, as Exec does).
func (e *ExecRun) Run(units int) (done bool, out []Out, err error) {
	t := e.t
	defer func() {
		if r := recover(); r != nil {
			msg := "state kept as it was"
			if t.pos >= 0 {
				t.cur = t.hist[t.pos].Clone()
				msg = "state restored to the last checkpoint"
			}
			e.done, e.err = true, &InternalError{fmt.Sprintf("internal error in the simulator (%s): %v", msg, r)}
			done, out, err = true, nil, e.err
		}
	}()
	if e.done {
		return true, e.r.out, e.err
	}
	if t.cur != e.r.s {
		return true, nil, fmt.Errorf("the session changed while the input ran")
	}
	done, err = e.r.run(units)
	if !done {
		return false, nil, nil
	}
	e.done, e.err = true, err
	if e.checkpoint && len(t.cur.src) != e.before {
		t.Checkpoint(e.label)
	}
	return true, e.r.out, err
}

// Progress is how many statements have started, of how many.
func (e *ExecRun) Progress() (started, total int) { return e.r.next, len(e.r.stmts) }
