package scenario

import "math"

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

// Loader runs a scenario as NewTimeline does, but a bounded amount of work
// per Run, so that a page can run a big share link between frames and
// stay responsive: the scenario is parsed and priced against the default
// budget first (nothing runs when it is over), plain statements run whole,
// and the long ones (spawn-random, tick, sleep, settle) in parts. Running
// it to the end in any slices gives what NewTimeline gives: the same
// source, output and state.
type Loader struct {
	file  string
	stmts []Stmt
	next  int // the statement to start next
	s     *Session
	out   []Out
	// the statement running in parts, if any
	cur   part
	curSt Stmt
	used  Usage
	err   error
	tl    *Timeline
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
	return &Loader{file: file, stmts: sc.Stmts, s: &Session{file: file, budget: DefaultBudget()}}, nil
}

// Run does about units units of work (a plain statement counts as one)
// and reports whether the scenario has finished. An error ends it: as
// with NewSession, nothing of a failed scenario is kept.
func (l *Loader) Run(units int) (done bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			l.err = &InternalError{Msg: "internal error in the simulator while loading"}
			done, err = true, l.err
		}
	}()
	if l.err != nil || l.tl != nil {
		return true, l.err
	}
	for units > 0 {
		if l.cur != nil {
			o, fin, e := l.cur(units)
			units = 0 // a part uses what it is given
			if fin || e != nil {
				o, e = l.s.end(l.curSt, l.used, o, e)
				l.out = append(l.out, o...)
				l.cur = nil
				if e != nil {
					return l.fail(e)
				}
			}
			continue
		}
		if l.next == len(l.stmts) {
			if e := l.s.ensure(Pos{File: l.file, Line: 1, Col: 1}); e != nil {
				return l.fail(e)
			}
			l.tl = &Timeline{cur: l.s, pos: -1, start: l.out}
			return true, nil
		}
		st := l.stmts[l.next]
		l.next++
		units--
		if e := l.start(st); e != nil {
			return l.fail(e)
		}
	}
	return false, nil
}

// start begins a statement: a plain one runs whole, a long one becomes
// l.cur.
func (l *Loader) start(st Stmt) error {
	s := l.s
	used, err := s.begin(st)
	if err != nil {
		return err
	}
	v, out, err := s.prologue(st)
	if err == nil && v.group != groupConfig {
		if v.Parts != nil {
			var p part
			if p, err = v.Parts(s, st, out); err == nil {
				l.cur, l.curSt, l.used = p, st, used
				return nil
			}
			out = nil
		} else {
			out, err = v.Run(s, st, out)
		}
	}
	out, err = s.end(st, used, out, err)
	l.out = append(l.out, out...)
	return err
}

func (l *Loader) fail(err error) (bool, error) {
	l.err = err
	l.s = nil
	return true, err
}

// Progress is how many statements have started, of how many.
func (l *Loader) Progress() (started, total int) { return l.next, len(l.stmts) }

// Output is what the statements run so far printed.
func (l *Loader) Output() []Out { return l.out }

// Timeline is the loaded timeline, once Run has reported done without an
// error; nil before.
func (l *Loader) Timeline() *Timeline { return l.tl }
