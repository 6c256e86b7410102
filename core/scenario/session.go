package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unsafe"

	"github.com/klp-playground/klp/core/sim"
)

// Out is one piece of what a terminal on the box shows.
type Out struct {
	Kind  string // "cmd", "stdout", "stderr", "log", "pass", "fail", "note"
	Text  string
	Level string `json:",omitempty"` // for "log": the printk level name
}

// CapLog keeps the first max kernel log lines of out (all when max is 0)
// and says how many more there were in a note: a retry over thousands of
// blocked tasks prints a line for each, which a console that shows a few
// need not be sent.
func CapLog(out []Out, max int) []Out {
	if max <= 0 {
		return out
	}
	logs := 0
	for _, o := range out {
		if o.Kind == "log" {
			logs++
		}
	}
	if logs <= max {
		return out
	}
	kept := make([]Out, 0, len(out)-logs+max+1)
	n := 0
	for _, o := range out {
		if o.Kind == "log" {
			if n++; n > max {
				continue
			}
		}
		kept = append(kept, o)
	}
	return append(kept, Out{Kind: "note", Text: fmt.Sprintf("… and %d more kernel log lines (dmesg shows them all)", logs-max)})
}

// Session is a machine being driven by scenario statements.
type Session struct {
	file      string
	cfg       sim.Config
	profSet   bool
	builtAt   Pos
	sim       *sim.Sim
	src       []string // statements applied so far, printed
	lastErr   sim.Errno
	asleep    asleepCmd // the command the declared shell sleeps in (shellAsleep)
	mark      int       // Seq of the first log record after the last dmesg -C
	goals     []Stmt
	failures  int
	budget    Budget // see budget.go
	used      Usage
	busybox   bool // userland busybox: its insmod/rmmod messages (iface.go)
	oldProcps bool // userland procps-3.3.15: sysctl's messages (iface.go)
	shell     int  // the task the shell's commands run as (`shell PID`), 0: none
	quiet     bool // no output lines (SetQuiet)
}

// NewSession parses and runs a whole scenario. On any error nothing is
// kept: the error names file, line and column.
func NewSession(file, src string) (*Session, []Out, error) {
	return NewSessionBudget(file, src, DefaultBudget())
}

// NewSessionBudget is NewSession with a budget other than DefaultBudget.
func NewSessionBudget(file, src string, b Budget) (*Session, []Out, error) {
	sc, err := Parse(file, src)
	if err != nil {
		return nil, nil, err
	}
	s := &Session{file: file, budget: b.withDefaults()}
	var out []Out
	for _, st := range sc.Stmts {
		o, err := s.Apply(st)
		out = append(out, o...)
		if err != nil {
			return nil, out, err
		}
	}
	if err := s.ensure(Pos{File: file, Line: 1, Col: 1}); err != nil {
		return nil, out, err
	}
	return s, out, nil
}

// Exec parses and runs console input (one line, or a block).
func (s *Session) Exec(line string) ([]Out, error) {
	stmts, err := ParseLine(line)
	if err != nil {
		return nil, err
	}
	var out []Out
	for _, st := range stmts {
		o, err := s.Apply(st)
		out = append(out, o...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// Sim gives the machine (nil until the first statement that needs it).
func (s *Session) Sim() *sim.Sim { return s.sim }

// Failures counts failed expectations so far.
func (s *Session) Failures() int { return s.failures }

// Source is the whole session as scenario text: everything applied so far,
// in order. Loading it again gives the same state.
func (s *Session) Source() string {
	return strings.Join(s.src, "\n") + "\n"
}

// Clone copies the session, machine and all.
func (s *Session) Clone() *Session { return s.CloneInto(nil) }

// CloneInto is Clone reusing the memory of dead, a session its caller
// has finished with (nil: none), as sim.CloneInto does.
func (s *Session) CloneInto(dead *Session) *Session {
	var m *sim.Sim
	if dead != nil {
		m = dead.sim
	} else {
		dead = new(Session)
	}
	c := dead
	*c = *s
	if s.sim != nil {
		c.sim = s.sim.CloneInto(m)
	}
	// Both only grow: share them, capacity cut so that appends copy.
	c.src = s.src[:len(s.src):len(s.src)]
	c.goals = s.goals[:len(s.goals):len(s.goals)]
	return c
}

// Footprint estimates the bytes a clone of the session holds of its own
// (sim.Footprint and the session itself): the same natively and in
// WebAssembly.
func (s *Session) Footprint() int {
	n := int(unsafe.Sizeof(*s))
	if s.sim != nil {
		n += s.sim.Footprint()
	}
	return n
}

func (s *Session) errf(pos Pos, format string, args ...any) error {
	return &Error{pos, fmt.Sprintf(format, args...)}
}

// ensure builds the machine from the configuration seen so far.
func (s *Session) ensure(pos Pos) error {
	if s.sim != nil {
		return nil
	}
	if !s.profSet {
		p, _ := sim.ParseProfile(sim.DefaultProfile)
		s.cfg.Profile = p
	}
	s.cfg.LogBufLen, s.cfg.MaxEvents = s.budget.LogBufLen, s.budget.Events
	m, err := sim.New(s.cfg)
	if err != nil {
		return s.errf(pos, "%v", err)
	}
	s.sim = m
	s.builtAt = pos
	return nil
}

// drain turns what the machine did into output lines.
func (s *Session) drain(out []Out) []Out {
	if s.sim == nil {
		return out
	}
	r := s.sim.Ready()
	if r.LogDropped > 0 {
		// What a console prints when the ring overwrote records it had
		// not printed yet (console_prepend_dropped).
		out = append(out, Out{Kind: "log", Text: fmt.Sprintf("** %d printk messages dropped **", r.LogDropped), Level: sim.LevelWarn.String()})
	}
	for _, l := range r.Log {
		out = append(out, Out{Kind: "log", Text: l.Dmesg(), Level: l.Level.String()})
	}
	for _, e := range r.Events {
		if e.Ret != nil && e.PID == s.shell && s.asleep.verb != "" {
			out = s.returned(out, e.Ret)
		}
	}
	return out
}

// Apply runs one statement.
func (s *Session) Apply(st Stmt) ([]Out, error) {
	used, err := s.begin(st)
	if err != nil {
		return nil, err
	}
	out, err := s.apply(st)
	return s.end(st, used, out, err)
}

// begin charges a statement to the budget; end records it once it ran.
// Between them a statement runs whole (apply) or in parts (loader.go).
func (s *Session) begin(st Stmt) (Usage, error) {
	if s.budget == (Budget{}) {
		s.budget = DefaultBudget() // a zero Session is ready to use
	}
	return s.charge(st)
}

func (s *Session) end(st Stmt, used Usage, out []Out, err error) ([]Out, error) {
	out = s.drain(out)
	if err == nil {
		s.src = append(s.src, st.String())
		s.used = used
	}
	return out, err
}

func (s *Session) apply(st Stmt) ([]Out, error) {
	v, out, err := s.prologue(st)
	if err != nil || v.group == groupConfig {
		return out, err
	}
	return v.Run(s, st, out)
}

// prologue finds a statement's verb, builds the machine if the verb needs
// it, and starts its output (a config verb runs here, as it has no
// machine to wait for).
func (s *Session) prologue(st Stmt) (verbInfo, []Out, error) {
	v, ok := lookupVerb(st.Verb)
	if !ok {
		return v, nil, s.errf(st.Pos, "unknown command %q", st.Verb)
	}
	if v.group == groupConfig {
		if s.sim != nil {
			return v, nil, s.errf(st.Pos, "%s must come before the machine is built (it was built at line %d by the first other statement)", st.Verb, s.builtAt.Line)
		}
		out, err := v.Run(s, st, nil)
		return v, out, err
	}
	if err := s.ensure(st.Pos); err != nil {
		return v, nil, err
	}
	var out []Out
	if v.group == groupShell {
		s.lastErr = 0
	}
	if (v.group == groupShell || v.group == groupAction) && !s.quiet {
		out = []Out{{Kind: "cmd", Text: "# " + st.line()}}
	}
	return v, out, nil
}

func (s *Session) unknownKey(a Arg, known ...string) error {
	name := a.Key
	if name == "" {
		name = a.Val
	}
	msg := fmt.Sprintf("unknown option %q", name)
	if n := nearest(name, known); n != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", n)
	} else if len(known) > 0 {
		msg += fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
	}
	return s.errf(a.Pos, "%s", msg)
}

// parseNum reads a number argument as the language does everywhere: a
// 0x prefix is hexadecimal, a leading 0 octal (strconv base 0).
func parseNum(val string) (uint64, error) { return strconv.ParseUint(val, 0, 64) }

func (s *Session) num(a Arg) (uint64, error) {
	v, err := parseNum(a.Val)
	if err != nil {
		return 0, s.errf(a.Pos, "expected a number, got %q", a.Val)
	}
	return v, nil
}

func (s *Session) pid(a Arg) (int, error) {
	v, err := strconv.Atoi(a.Val)
	if err != nil || v < 0 {
		return 0, s.errf(a.Pos, "expected a pid, got %q", a.Val)
	}
	return v, nil
}

func (s *Session) intList(a Arg) ([]int, error) {
	var out []int
	for _, f := range strings.Split(a.Val, ",") {
		if lo, hi, ok := strings.Cut(f, "-"); ok {
			l, e1 := strconv.Atoi(lo)
			h, e2 := strconv.Atoi(hi)
			if e1 != nil || e2 != nil || h < l || h-l > 64 {
				return nil, s.errf(a.Pos, "bad CPU range %q", f)
			}
			for i := l; i <= h; i++ {
				out = append(out, i)
			}
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, s.errf(a.Pos, "bad CPU list %q", a.Val)
		}
		out = append(out, v)
	}
	return out, nil
}

// funcDecl parses "name" or "name/0x30".
func (s *Session) funcDecl(a Arg) (sim.FuncDecl, error) {
	name, size, has := strings.Cut(a.Val, "/")
	d := sim.FuncDecl{Name: name, Size: 0x100}
	if a.Key != "" || a.Quoted || name == "" || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return d, s.errf(a.Pos, "expected a function name such as cmdline_proc_show/0x30, got %q", a.String())
	}
	if has {
		v, err := strconv.ParseUint(size, 0, 64)
		if err != nil || v == 0 {
			return d, s.errf(a.Pos, "bad function size %q", size)
		}
		d.Size = v
	}
	return d, nil
}
