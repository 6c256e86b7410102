package scenario

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxCheckpoints bounds a timeline; the oldest checkpoints are dropped
// first (clones share the log, so each costs about one task table).
const MaxCheckpoints = 2000

// maxLabel bounds a checkpoint's label.
const maxLabel = 200

// Timeline is a session with its time-travel history: checkpoints to go
// back to, and the branch the user forks from. Checkpoints after the
// current position are the future of an earlier state the user went back
// to; a new checkpoint discards them ("fork from here"), as in RaftScope's
// timeline.
type Timeline struct {
	cur    *Session
	hist   []*Session // pristine clones; never run
	labels []string
	pos    int   // index in hist of the checkpoint cur descends from, -1 none
	start  []Out // what running the scenario printed
}

// NewTimeline runs a scenario (see NewSession) and starts its timeline
// with no checkpoint.
func NewTimeline(file, src string) (*Timeline, error) {
	s, out, err := NewSession(file, src)
	if err != nil {
		return nil, err
	}
	return &Timeline{cur: s, pos: -1, start: out}, nil
}

// Session is the current session.
func (t *Timeline) Session() *Session { return t.cur }

// StartOutput is what running the scenario printed.
func (t *Timeline) StartOutput() []Out { return t.start }

// InternalError is a panic in the simulator, recovered; the timeline went
// back to its last checkpoint (or kept the session, if it has none).
type InternalError struct{ Msg string }

func (e *InternalError) Error() string { return e.Msg }

// Exec runs console input on the current session (see Session.Exec). With
// checkpoint, a checkpoint labelled with the input's first line is stored
// when something was applied: a failed statement is not recorded, but
// earlier statements of a block may have run.
func (t *Timeline) Exec(text string, checkpoint bool) (out []Out, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := "state kept as it was"
			if t.pos >= 0 {
				t.cur = t.hist[t.pos].Clone()
				msg = "state restored to the last checkpoint"
			}
			out, err = nil, &InternalError{fmt.Sprintf("internal error in the simulator (%s): %v", msg, r)}
		}
	}()
	before := len(t.cur.src)
	out, err = t.cur.Exec(text)
	if checkpoint && len(t.cur.src) != before {
		t.Checkpoint(firstLine(text))
	}
	return out, err
}

// Result is what one input printed, and its scenario error.
type Result struct {
	Out []Out
	Err error
}

// failed tells whether a result counts as a failure for ExecAll: a
// scenario error, or a command that complained (insmod refused).
func (r Result) failed() bool {
	if r.Err != nil {
		return true
	}
	for _, o := range r.Out {
		if o.Kind == "stderr" {
			return true
		}
	}
	return false
}

// ExecAll runs inputs as one action: all of them, or none. When one fails,
// the rest are not run and the session goes back to the checkpoint it was
// at (its later checkpoints stay, as the action never happened), so a
// form whose second step fails leaves nothing of its first behind (a
// livepatch declared for an insmod that failed would be "declared twice"
// on the next try). One checkpoint records a whole action that applied
// something. note says what was taken back, "" when nothing was. A panic
// in the simulator ends it with an *InternalError.
func (t *Timeline) ExecAll(inputs []string) (res []Result, note string, err error) {
	pos, before := t.pos, len(t.cur.src)
	for _, in := range inputs {
		out, e := t.Exec(in, false)
		if _, ok := e.(*InternalError); ok {
			return res, "", e
		}
		res = append(res, Result{out, e})
		if res[len(res)-1].failed() {
			break
		}
	}
	changed := len(t.cur.src) != before
	switch {
	case len(res) > 0 && res[len(res)-1].failed():
		if changed && pos >= 0 {
			_ = t.Seek(pos)
			note = fmt.Sprintf("taken back: %s (a later step failed)", firstLine(inputs[0]))
		}
	case changed:
		labels := make([]string, len(inputs))
		for i, in := range inputs {
			labels[i] = firstLine(in)
		}
		t.Checkpoint(strings.Join(labels, "; "))
	}
	return res, note, nil
}

// firstLine labels a checkpoint: the input's first line, "…" when there
// are more.
func firstLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > 1 {
		return l[0] + " …"
	}
	return l[0]
}

// Checkpoint stores a clone of the session as it is now and returns its
// index, discarding the checkpoints after the current position.
func (t *Timeline) Checkpoint(label string) int {
	if len(label) > maxLabel {
		label = label[:maxLabel]
	}
	t.Fork()
	t.hist = append(t.hist, t.cur.Clone())
	t.labels = append(t.labels, label)
	if len(t.hist) > MaxCheckpoints {
		drop := len(t.hist) - MaxCheckpoints
		t.hist = append([]*Session(nil), t.hist[drop:]...)
		t.labels = append([]string(nil), t.labels[drop:]...)
	}
	t.pos = len(t.hist) - 1
	return t.pos
}

// Fork discards the checkpoints after the current position and returns
// the position.
func (t *Timeline) Fork() int {
	if t.pos+1 < len(t.hist) {
		clear(t.hist[t.pos+1:]) // let the clones be collected
		t.hist = t.hist[:t.pos+1]
		t.labels = t.labels[:t.pos+1]
	}
	return t.pos
}

// Seek makes a copy of checkpoint i the current session. The checkpoints
// after it stay until the next checkpoint or fork.
func (t *Timeline) Seek(i int) error {
	if i < 0 || i >= len(t.hist) {
		return fmt.Errorf("no checkpoint %d (have %d)", i, len(t.hist))
	}
	t.cur = t.hist[i].Clone()
	t.pos = i
	return nil
}

// History is where a timeline stands.
type History struct {
	Pos    int // current checkpoint, -1 none
	Count  int
	Labels []string
}

// History reports the checkpoints and the position.
func (t *Timeline) History() History {
	return History{Pos: t.pos, Count: len(t.hist), Labels: append([]string{}, t.labels...)}
}

// maxTickRun keeps a merged tick under the per-statement bound of tick.
const maxTickRun = 1000000

// CompactSource is Source with runs of "tick N" merged into one, so a
// share link of a session that played for a while stays short: tick N
// then tick M advances exactly as tick N+M does (time only moves through
// the same loop).
func (s *Session) CompactSource() string {
	var out []string
	acc := uint64(0)
	// A merged tick stays within one statement's budget, so the link
	// runs where the session ran.
	limit := uint64(maxTickRun)
	if s.sim != nil {
		if b := uint64(s.budget.withDefaults().StmtSeconds * float64(s.sim.HZ())); b < limit {
			limit = b
		}
	}
	flush := func() {
		if acc > 0 {
			out = append(out, "tick "+strconv.FormatUint(acc, 10))
		}
		acc = 0
	}
	for _, st := range s.src {
		if n, ok := tickCount(st); ok {
			if acc+n > limit {
				flush()
			}
			acc += n
			continue
		}
		flush()
		out = append(out, st)
	}
	flush()
	return strings.Join(out, "\n") + "\n"
}

// tickCount reads a printed "tick" or "tick N" statement.
func tickCount(st string) (uint64, bool) {
	if st == "tick" {
		return 1, true
	}
	v, ok := strings.CutPrefix(st, "tick ")
	if !ok {
		return 0, false
	}
	n, err := parseNum(v) // as the tick itself read it (tick 010 is 8)
	return n, err == nil
}

// NextPID is the pid the spawn form offers: above every task, and above
// 99 so it does not look like a kernel thread.
func (s *Session) NextPID() int {
	next := 100
	if s.sim != nil {
		for _, p := range s.sim.PIDs() {
			next = max(next, p+1)
		}
	}
	return next
}

// WithProfile replaces (or adds) the kernel line of a scenario: the same
// session replayed under another kernel profile.
func WithProfile(src, profile string) string {
	if profile == "" {
		return src
	}
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " \t\r\v\f")
		if strings.HasPrefix(t, "kernel") && len(t) > len("kernel") && strings.IndexByte(" \t\r\v\f", t[len("kernel")]) >= 0 {
			lines[i] = "kernel " + profile
			return strings.Join(lines, "\n")
		}
	}
	return "kernel " + profile + "\n" + src
}

// Panels are the views a widget can show (web/widget.js builds them; a
// lesson's scenario block picks some).
func Panels() []string {
	return []string{"timeline", "cpus", "transition", "alarms", "goals", "tasks", "patches", "funcstacks", "log", "console"}
}
