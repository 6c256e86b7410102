package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

// Budget bounds what one scenario — a file, a share link, a console
// session — may make the machine hold and do, so that text from a stranger
// cannot exhaust the page's memory or time. Every statement is charged
// before it runs (and before anything is allocated); Cost charges a whole
// scenario without running it.
type Budget struct {
	Tasks   int // tasks created (task, spawn-random, fork); exits give none back
	Frames  int // kernel stack frames declared (task, idle, spawn-random) or called
	Funcs   int // functions declared (vmlinux, module, a livepatch's func lines)
	Modules int // modules and livepatches declared
	Steps   int // statements run
	// StmtSeconds bounds the simulated time one statement passes (tick,
	// sleep, settle, until); TotalSeconds all of them together.
	StmtSeconds, TotalSeconds float64
	LogBufLen                 int // the kernel log ring, in bytes (log_buf_len)
	Events                    int // events kept (the newest)
}

// DefaultBudget is what sessions get: room for two machines' worth of the
// largest spawn-random (100,000 tasks of 16 frames), a vmlinux of
// 200,000 functions, a simulated day.
func DefaultBudget() Budget {
	return Budget{
		Tasks: 200000, Frames: 3200000, Funcs: 200000, Modules: 1000, Steps: 100000,
		StmtSeconds: 3600, TotalSeconds: 86400,
		LogBufLen: sim.DefaultLogBufLen, Events: sim.DefaultMaxEvents,
	}
}

// withDefaults fills the limits left zero from DefaultBudget.
func (b Budget) withDefaults() Budget {
	d := DefaultBudget()
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&b.Tasks, d.Tasks)
	pick(&b.Frames, d.Frames)
	pick(&b.Funcs, d.Funcs)
	pick(&b.Modules, d.Modules)
	pick(&b.Steps, d.Steps)
	pick(&b.LogBufLen, d.LogBufLen)
	pick(&b.Events, d.Events)
	if b.StmtSeconds <= 0 {
		b.StmtSeconds = d.StmtSeconds
	}
	if b.TotalSeconds <= 0 {
		b.TotalSeconds = d.TotalSeconds
	}
	return b
}

// Usage is what a scenario used (or would use) of a Budget.
type Usage struct {
	Tasks, Frames, Funcs, Modules, Steps int
	Seconds                              float64 // simulated time, all statements
	MaxStmtSeconds                       float64 // the longest statement
	// Regions counts the explore regions (Cost only; not a limit): the
	// page asks it before it offers a search.
	Regions int
}

// BudgetError is a statement over budget: which limit, its value, and
// what the statement would have brought the total to.
type BudgetError struct {
	Pos   Pos
	Limit string // "tasks", "frames", "functions", "modules", "steps", "seconds per statement", "seconds"
	Max   float64
	Would float64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("%s: over the scenario budget: %s limit is %s, this statement would need %s",
		e.Pos, e.Limit, fmtNum(e.Max), fmtNum(e.Would))
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// stmtCost is what one statement costs; hz converts ticks to seconds.
// Arguments that do not parse cost nothing: running the statement reports
// them.
func stmtCost(st Stmt, hz int) (Usage, Pos) {
	u := Usage{Steps: 1}
	pos := st.Pos
	a := st.Args
	secs := func(i int, def float64) float64 {
		if i < len(a) {
			if v, ok := parseSeconds(a[i].Val); ok {
				return v
			}
			return 0
		}
		return def
	}
	switch st.Verb {
	case "task":
		for _, x := range a {
			if x.Key == "stack" {
				u.Frames += countFrames(x.Val)
			}
		}
		u.Tasks = 1
	case "idle":
		for _, x := range a {
			if x.Key == "stack" {
				u.Frames += countFrames(x.Val)
			}
		}
	case "spawn-random":
		n, _ := strconv.ParseUint(a[0].Val, 0, 64)
		f := uint64(16)
		for _, x := range a[1:] {
			if x.Key == "frames" {
				f, _ = strconv.ParseUint(x.Val, 0, 64)
			}
		}
		u.Tasks = satInt(n)
		u.Frames = satInt(satMul(n, f))
		pos = a[0].Pos
	case "fork":
		u.Tasks = 1
	case "call":
		u.Frames = 1
	case "vmlinux":
		u.Funcs = len(a)
	case "module":
		u.Modules = 1
		for _, x := range a[1:] {
			if x.Key == "" {
				u.Funcs++
			}
		}
	case "livepatch":
		u.Modules = 1
		for _, in := range st.Body {
			if in.Verb == "func" {
				u.Funcs++
			}
		}
	case "tick":
		n := uint64(1)
		if len(a) > 0 {
			n, _ = strconv.ParseUint(a[0].Val, 0, 64)
		}
		u.MaxStmtSeconds = float64(n) / float64(hz)
	case "sleep":
		u.MaxStmtSeconds = secs(0, 0)
	case "settle":
		u.MaxStmtSeconds = secs(0, 60)
	case "until":
		u.MaxStmtSeconds = 60
		for _, x := range a[1:] {
			if x.Key == "within" {
				if v, ok := parseSeconds(x.Val); ok {
					u.MaxStmtSeconds = v
				}
			}
		}
	}
	u.Seconds = u.MaxStmtSeconds
	return u, pos
}

func countFrames(stack string) int {
	if strings.TrimSpace(stack) == "" {
		return 0
	}
	return strings.Count(stack, ">") + 1
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}

func satInt(v uint64) int {
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(v)
}

// add charges u to used, or says which limit it would pass.
func (b Budget) add(used *Usage, u Usage, pos Pos) error {
	next := Usage{
		Tasks: used.Tasks + u.Tasks, Frames: used.Frames + u.Frames, Funcs: used.Funcs + u.Funcs,
		Modules: used.Modules + u.Modules, Steps: used.Steps + u.Steps,
		Seconds: used.Seconds + u.Seconds, MaxStmtSeconds: max(used.MaxStmtSeconds, u.MaxStmtSeconds),
	}
	for _, c := range []struct {
		name       string
		would, max float64
	}{
		{"steps", float64(next.Steps), float64(b.Steps)},
		{"tasks", float64(next.Tasks), float64(b.Tasks)},
		{"frames", float64(next.Frames), float64(b.Frames)},
		{"functions", float64(next.Funcs), float64(b.Funcs)},
		{"modules", float64(next.Modules), float64(b.Modules)},
		{"seconds per statement", u.MaxStmtSeconds, b.StmtSeconds},
		{"seconds", next.Seconds, b.TotalSeconds},
	} {
		if c.would > c.max {
			return &BudgetError{Pos: pos, Limit: c.name, Max: c.max, Would: c.would}
		}
	}
	*used = next
	return nil
}

// Cost parses a scenario and charges every statement against b without
// running anything, so a share link can be refused, with the limit it
// passes and where, before it starts. It returns what the scenario would
// use (up to the statement over budget).
func Cost(file, src string, b Budget) (Usage, error) {
	b = b.withDefaults()
	sc, err := Parse(file, src)
	if err != nil {
		return Usage{}, err
	}
	var used Usage
	hz := 250
	for _, st := range sc.Stmts {
		if st.Verb == "hz" {
			if v, err := strconv.Atoi(st.Args[0].Val); err == nil && v > 0 {
				hz = v
			}
		}
		u, pos := stmtCost(st, hz)
		regions := used.Regions
		if err := b.add(&used, u, pos); err != nil {
			return used, err
		}
		used.Regions = regions
		if st.Verb == "explore" {
			used.Regions++
		}
	}
	return used, nil
}

// charge runs before a statement: it is refused if it would pass the
// session's budget.
func (s *Session) charge(st Stmt) (Usage, error) {
	hz := s.cfg.HZ
	if s.sim != nil {
		hz = s.sim.HZ()
	}
	if hz == 0 {
		hz = 250
	}
	u, pos := stmtCost(st, hz)
	used := s.used
	return used, s.budget.add(&used, u, pos)
}

// Used reports what the session used of its budget so far.
func (s *Session) Used() Usage { return s.used }

// Budget reports the session's budget.
func (s *Session) Budget() Budget { return s.budget }
