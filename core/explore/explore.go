// Package explore runs every interleaving of a scenario's explore region
// and checks each state: breadth-first, so the first counterexample found
// for a property is a shortest one; states deduplicated by a fingerprint
// (a set of 64-bit hashes, not states); bounded by steps, simulated
// seconds and the number of states; with a partial-order reduction for
// task actions that commute.
//
// The engine does not care where choices come from: a Chooser lists them
// at each state, as scenario statements, so a counterexample is scenario
// text that replays step by step. Like the rest of core/ it is pure and
// deterministic: no goroutine, no clock (the caller times it).
package explore

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
)

// Choice is one thing that may happen next, as a scenario statement.
type Choice struct {
	Text    string
	node    int    // the region statement, or -1 for the kernel's own work
	jiffies uint64 // for a tick (the seconds bound)
}

// Options bound a search. Zero values take the explore statement's
// options (or their defaults).
type Options struct {
	Steps     int     // choices along one path
	Seconds   float64 // simulated time from the region's start
	MaxStates int     // fingerprints kept
	// MaxMemory bounds the bytes of the states held at once, the
	// frontier and the next level (scenario.Session.Footprint, an
	// estimate the same natively and in WebAssembly): breadth-first, they
	// are what grows, a few KB each, where the visited set takes 8–16
	// bytes a state.
	MaxMemory int
	Tick      uint64 // offer "tick N" at every step (0: only the transition work)
	Reduce    bool   // partial-order reduction
	NoReduce  bool   // force it off (overrides Reduce and the scenario)
	// Progress, if set, is called every ProgressEvery expansions and at
	// the end; returning false cancels the search.
	Progress      func(Stats) bool
	ProgressEvery int
	// Found, if set, is called with each property's counterexample as
	// soon as the search finds it (breadth-first, it is already the
	// shortest): a long search's first findings can be read, and
	// replayed, while it goes on. The Result lists them all again.
	Found func(Violation)
}

// Stats counts the work done so far.
//
// The JSON names are klp explore -json's, and the bridge's (wasm/explore.go).
type Stats struct {
	States      int `json:"states"`      // distinct states (fingerprints) visited
	Transitions int `json:"transitions"` // choices applied
	Completed   int `json:"completed"`   // paths that ran the whole region
	Depth       int `json:"depth"`       // the BFS level being explored
	Frontier    int `json:"frontier"`
}

// Violation is a property broken, with its shortest counterexample.
type Violation struct {
	Property string   `json:"property"` // consistency, warning, hazard, invariant, expect, liveness, error
	Detail   string   `json:"detail"`   // what broke, as the checker says it
	Steps    []string `json:"steps"`    // the region's statements in the order that breaks it
	Scenario string   `json:"scenario"` // the whole scenario text that replays it
}

// Result is what a search found.
type Result struct {
	Stats
	Options    Options // the bounds used
	Violations []Violation
	// Bound says which bound cut the search ("" when it ran out of
	// states to explore): states, memory, steps or seconds.
	Bound     string
	Cancelled bool
	// SetBytes is the memory of the visited set.
	SetBytes int
	// HeldBytes is the most the states held at once took
	// (Options.MaxMemory's estimate).
	HeldBytes int
}

// SearchGCPercent is the GOGC a program running one search may set (klp
// explore does, unless GOGC is set): a search keeps its frontier and
// drops most states it makes at once, and with the default 100 the
// collector took a third of its CPU time; 400 trades memory (the heap
// grows to five times the frontier instead of twice) for about 1.5× the
// states per CPU-second. The package itself leaves the runtime alone.
const SearchGCPercent = 400

// Held lists, in report order, the properties no state explored broke.
func (r *Result) Held() []string {
	held := []string{}
	for _, p := range Properties {
		broken := false
		for _, v := range r.Violations {
			broken = broken || v.Property == p
		}
		if !broken {
			held = append(held, p)
		}
	}
	return held
}

// Properties lists the properties checked, in report order.
var Properties = []string{"consistency", "warning", "invariant", "hazard", "expect", "liveness"}

// Prepared is a scenario parsed and run up to its explore region.
type Prepared struct {
	root   *scenario.Session
	prefix string // the statements before the region, as scenario text
	reg    *region
	opts   Options
}

// Prepare parses src and runs it up to its explore region. A scenario
// without one, or with an error, is an error (a *scenario.Error or
// scenario.ErrorList names the place).
func Prepare(file, src string) (*Prepared, error) {
	sc, err := scenario.Parse(file, src)
	if err != nil {
		return nil, err
	}
	at := -1
	for i, st := range sc.Stmts {
		if st.Verb == "explore" {
			if at >= 0 {
				return nil, &scenario.Error{Pos: st.Pos, Msg: fmt.Sprintf("a scenario has one explore region (the first is at line %d)", sc.Stmts[at].Pos.Line)}
			}
			at = i
		}
	}
	if at < 0 {
		return nil, &scenario.Error{Pos: scenario.Pos{File: file, Line: 1, Col: 1}, Msg: "no explore region (explore … end) to explore"}
	}
	var b strings.Builder
	for _, st := range sc.Stmts[:at] {
		b.WriteString(st.String())
		b.WriteByte('\n')
	}
	root, _, err := scenario.NewSession(file, b.String())
	if err != nil {
		return nil, err
	}
	ex := sc.Stmts[at]
	o, err := options(ex)
	if err != nil {
		return nil, err
	}
	return &Prepared{root: root, prefix: b.String(), reg: compile(ex, o.Tick), opts: o}, nil
}

func options(ex scenario.Stmt) (Options, error) {
	v := map[string]string{}
	for k, d := range scenario.ExploreOptions {
		v[k] = d
	}
	for _, a := range ex.Args {
		v[a.Key] = a.Val
	}
	var o Options
	bad := func(k string) error {
		for _, a := range ex.Args {
			if a.Key == k {
				return &scenario.Error{Pos: a.Pos, Msg: fmt.Sprintf("explore %s=%q: expected a positive number", k, a.Val)}
			}
		}
		return nil
	}
	var err error
	if o.Steps, err = strconv.Atoi(v["steps"]); err != nil || o.Steps <= 0 || o.Steps > 1000 {
		return o, bad("steps")
	}
	if o.Seconds, err = strconv.ParseFloat(v["seconds"], 64); err != nil || o.Seconds <= 0 || o.Seconds > 3600 {
		return o, bad("seconds")
	}
	if o.MaxStates, err = strconv.Atoi(v["states"]); err != nil || o.MaxStates <= 0 || o.MaxStates > 1<<28 {
		return o, bad("states")
	}
	mb, err := strconv.Atoi(v["memory"])
	if err != nil || mb <= 0 || mb > 1<<20 {
		return o, bad("memory")
	}
	o.MaxMemory = mb << 20
	t, err := strconv.ParseUint(v["tick"], 0, 32)
	if err != nil {
		return o, bad("tick")
	}
	o.Tick = t
	switch v["reduce"] {
	case "on":
		o.Reduce = true
	case "off":
	default:
		for _, a := range ex.Args {
			if a.Key == "reduce" {
				return o, &scenario.Error{Pos: a.Pos, Msg: fmt.Sprintf("explore reduce=%q: expected on or off", a.Val)}
			}
		}
	}
	return o, nil
}

// Options reports the bounds the scenario asks for.
func (p *Prepared) Options() Options { return p.opts }

// state is one frontier entry.
type state struct {
	s     *scenario.Session
	pc    []int16
	path  *trail
	last  int // the region statement that led here, or -1
	bytes int // its share of held (Footprint and the entry)
}

// trail is a path, shared by the states that extend it.
type trail struct {
	up   *trail
	text string
	n    int
}

func (t *trail) steps() []string {
	if t == nil {
		return nil
	}
	out := make([]string, t.n)
	for ; t != nil; t = t.up {
		out[t.n-1] = t.text
	}
	return out
}

// slab hands out values from chunks: one allocation for many of the
// search's small objects (frontier entries, their positions, trails).
// A chunk lives while any value in it does; a breadth-first search's
// values die level by level, so little is held for long.
type slab[T any] struct{ buf []T }

const slabChunk = 256

func (s *slab[T]) get() *T {
	if len(s.buf) == 0 {
		s.buf = make([]T, slabChunk)
	}
	v := &s.buf[0]
	s.buf = s.buf[1:]
	return v
}

// take returns n values, the chunk cut at them (an append copies).
func (s *slab[T]) take(n int) []T {
	if len(s.buf) < n {
		s.buf = make([]T, max(slabChunk, n))
	}
	v := s.buf[:n:n]
	s.buf = s.buf[n:]
	return v
}

// Run explores with the scenario's bounds, overridden by the non-zero
// fields of o.
func (p *Prepared) Run(o Options) *Result {
	opts := p.opts
	if o.Steps > 0 {
		opts.Steps = o.Steps
	}
	if o.Seconds > 0 {
		opts.Seconds = o.Seconds
	}
	if o.MaxStates > 0 {
		opts.MaxStates = o.MaxStates
	}
	if o.MaxMemory > 0 {
		opts.MaxMemory = o.MaxMemory
	}
	if o.Tick > 0 {
		opts.Tick = o.Tick
		p.reg.tick = o.Tick
	}
	if o.NoReduce {
		opts.Reduce = false
	}
	opts.Progress, opts.ProgressEvery, opts.Found = o.Progress, o.ProgressEvery, o.Found
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 4096
	}
	e := &engine{p: p, o: opts, found: map[string]bool{}, kernel: map[string]scenario.Stmt{}, reduce: opts.Reduce && p.reg.reduceOK, forget: !p.reg.checks}
	return e.run()
}

type engine struct {
	p       *Prepared
	o       Options
	reduce  bool
	forget  bool // drop each state's history once checked (no expect in the region reads it)
	seen    fpset
	found   map[string]bool
	res     Result
	held    int    // bytes of the states in the frontier and the next level
	full    bool   // the memory bound was hit: no more states are kept
	start   uint64 // jiffies at the region's start
	limit   uint64 // jiffies allowed
	scratch []int
	// spare is a state found already visited (most are), whose memory
	// the next clone reuses: fewer allocations, less for the GC to do.
	spare   *scenario.Session
	sparePC []int16
	spareSt *state
	kernel  map[string]scenario.Stmt // the kernel's work's statements, parsed once
	cbuf    []Choice
	next    []sim.Next
	texts   choiceTexts
	states  slab[state]
	pcs     slab[int16]
	trails  slab[trail]
}

// push extends a path with a step, its trail from the slab.
func (e *engine) push(t *trail, s string) *trail {
	n := e.trails.get()
	*n = trail{up: t, text: s, n: 1}
	if t != nil {
		n.n = t.n + 1
	}
	return n
}

func (e *engine) recycle(st *state) {
	e.spare, e.sparePC, e.spareSt = st.s, st.pc, st
}

// newState makes a frontier entry, reusing the last one found visited.
func (e *engine) newState(pc []int16, last int) *state {
	ns := e.spareSt
	if ns == nil {
		ns = e.states.get()
	}
	e.spareSt = nil
	spc := e.sparePC
	if spc == nil {
		spc = e.pcs.take(len(pc))
	}
	*ns = state{pc: append(spc[:0], pc...), last: last}
	e.sparePC = nil
	return ns
}

func (e *engine) run() *Result {
	e.res.Options = e.o
	root := &state{s: e.p.root.Clone(), pc: make([]int16, e.p.reg.slots), last: -1}
	m := root.s.Sim()
	// Every state copies its history on its first event: keep only what
	// the region does (an expect log in the region sees the region's lines).
	m.ForgetHistory()
	// With nothing in the region reading the log (no expect or goal),
	// search quietly: the checks read counters and the events kept.
	root.s.SetQuiet(e.forget)
	e.start = m.Jiffies()
	e.limit = uint64(e.o.Seconds * float64(m.HZ()))
	e.seen.init(16) // grown by a quarter at a time: small searches stay small
	e.autoChecks(root)
	e.check(0, 0, 0, root)
	e.seen.add(e.key(root))
	e.res.States = 1
	if !e.hold(root) {
		e.res.Bound = "memory"
	}
	frontier := []*state{root}
	for depth := 0; len(frontier) > 0; depth++ {
		e.res.Depth, e.res.Frontier = depth, len(frontier)
		if depth >= e.o.Steps {
			for _, st := range frontier {
				if len(e.choices(st)) > 0 {
					e.res.Bound = "steps"
					break
				}
			}
			break
		}
		var next []*state
		for i, st := range frontier {
			cs := e.choices(st)
			for ci, c := range cs {
				if e.pruned(st, c) {
					continue
				}
				if c.node < 0 && st.s.Sim().Jiffies()+c.jiffies-e.start > e.limit {
					e.res.Bound = or(e.res.Bound, "seconds")
					continue
				}
				ns := e.newState(st.pc, c.node)
				if ci == len(cs)-1 {
					ns.s = st.s // the last choice takes the state itself: no copy
				} else {
					ns.s = st.s.CloneInto(e.spare)
					e.spare = nil
				}
				pm := st.s.Sim()
				pa, pw, ph := pm.Alarms(), pm.Warnings(), pm.Hazards()
				if err := e.apply(ns, c); err != nil {
					e.recycle(ns)
					continue // not possible in this state: the choice is disabled
				}
				e.res.Transitions++
				if !e.forget {
					// the region's expect and goal statements read the path
					ns.path = e.push(st.path, c.Text)
					e.autoChecks(ns)
				}
				k := e.key(ns)
				if e.seen.has(k) {
					e.recycle(ns)
					continue
				}
				if e.seen.n >= e.o.MaxStates {
					e.res.Bound = "states"
					e.recycle(ns)
					continue
				}
				if !e.hold(ns) {
					e.res.Bound = "memory"
					e.recycle(ns)
					continue
				}
				e.seen.add(k)
				e.res.States++
				if e.forget {
					// no checks in the region: the path only for states kept
					ns.path = e.push(st.path, c.Text)
				}
				e.check(pa, pw, ph, ns)
				if e.forget {
					ns.s.Sim().ForgetHistory()
				}
				if e.p.reg.done(ns.pc, 0) {
					e.res.Completed++
					e.liveness(ns)
				}
				next = append(next, ns)
				if e.res.Transitions%e.o.ProgressEvery == 0 && e.o.Progress != nil {
					e.res.Frontier = len(frontier) - i + len(next)
					if !e.o.Progress(e.res.Stats) {
						e.res.Cancelled = true
						return e.finish()
					}
				}
			}
			// Let the state go: its slab chunk lives on with others.
			e.held -= st.bytes
			*st = state{}
			frontier[i] = nil
		}
		frontier = next
	}
	return e.finish()
}

// hold counts a state the search keeps against the memory bound, or says
// the bound is hit: from then on no state is kept (a bound that let
// states in again as the frontier shrinks would cut the search in a
// pattern hard to read).
func (e *engine) hold(st *state) bool {
	b := st.s.Footprint() + int(unsafe.Sizeof(*st)+unsafe.Sizeof(trail{})) + 2*len(st.pc)
	if e.full || e.held+b > e.o.MaxMemory {
		e.full = true
		return false
	}
	st.bytes = b
	e.held += b
	e.res.HeldBytes = max(e.res.HeldBytes, e.held)
	return true
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (e *engine) finish() *Result {
	e.res.SetBytes = e.seen.bytes()
	if e.o.Progress != nil && !e.res.Cancelled {
		e.o.Progress(e.res.Stats)
	}
	// Report in a fixed order of properties.
	var vs []Violation
	for _, p := range append(Properties, "error") {
		for _, v := range e.res.Violations {
			if v.Property == p {
				vs = append(vs, v)
			}
		}
	}
	e.res.Violations = vs
	return &e.res
}

// choices lists the region's enabled statements, then the kernel's work.
// The list is reused: it is good until the next call.
func (e *engine) choices(st *state) []Choice {
	e.scratch = e.p.reg.enabled(st.pc, 0, e.scratch[:0])
	out := e.cbuf[:0]
	for _, n := range e.scratch {
		out = append(out, Choice{Text: e.p.reg.nodes[n].text, node: n})
	}
	e.cbuf = pendingChoices(st.s.Sim(), e.p.reg.tick, out, &e.next, &e.texts)
	return e.cbuf
}

// pruned is the partial-order reduction, a sleep set of one: after a
// task-local action a, a task-local action b of another task from a
// different item of the same any-order, with b before a in the region,
// is skipped — the state after a then b is the state after b then a,
// which the search reaches from the parent by taking b first.
//
// Why no state is lost although states are merged by fingerprint alone:
// if X·b is skipped because X was reached by a (X = W·a, b < a), then
// X·b = W·b·a, and W·b is at X's depth, so visited; from it a is taken
// unless W·b was itself reached by some c > a that commutes with a, and
// then the same step repeats with c — a strictly growing statement
// index, so it ends, at a state from which the missing step is taken.
// Two task-local actions of different tasks cannot enable or disable
// each other, and their effects on the machine commute (each touches
// its own task, its own CPU and that CPU's idle task; shared counters
// only add up).
func (e *engine) pruned(st *state, c Choice) bool {
	if !e.reduce || st.last < 0 || c.node < 0 || c.node >= st.last {
		return false
	}
	r := e.p.reg
	a, b := &r.nodes[st.last], &r.nodes[c.node]
	return a.local >= 0 && b.local >= 0 && a.local != b.local && r.commute(st.last, c.node)
}

func (e *engine) apply(st *state, c Choice) error {
	if c.node < 0 {
		stmt, ok := e.kernel[c.Text]
		if !ok {
			stmts, err := scenario.ParseLine(c.Text)
			if err != nil {
				return err
			}
			stmt = stmts[0]
			e.kernel[c.Text] = stmt // a few texts: tick N, fork-finish PID
		}
		_, err := st.s.ApplyInRegion(stmt)
		return err
	}
	n := &e.p.reg.nodes[c.node]
	if _, err := st.s.ApplyInRegion(n.stmt); err != nil {
		return err
	}
	e.p.reg.take(st.pc, 0, c.node)
	return nil
}

// autoChecks runs the expect and goal statements that have become
// enabled: they look, never act, so they are not choices.
func (e *engine) autoChecks(st *state) {
	r := e.p.reg
	for {
		e.scratch = r.enabled(st.pc, 0, e.scratch[:0])
		ran := false
		for _, n := range e.scratch {
			if !r.nodes[n].check {
				continue
			}
			stmt := r.nodes[n].stmt
			stmt.Verb = "expect" // a goal in a region is checked like expect
			before := st.s.Failures()
			out, err := st.s.ApplyInRegion(stmt)
			st.path = e.push(st.path, r.nodes[n].text)
			r.take(st.pc, 0, n)
			if err != nil {
				e.violate("error", err.Error(), st, "")
			} else if st.s.Failures() > before {
				why := ""
				for _, o := range out {
					if o.Kind == "fail" {
						why = o.Text
					}
				}
				e.violate("expect", why, st, "")
			}
			ran = true
			break
		}
		if !ran {
			return
		}
	}
}

// key is the state's fingerprint with the region's position.
func (e *engine) key(st *state) uint64 {
	h := st.s.Sim().Fingerprint()
	for _, v := range st.pc {
		h = mix(h ^ uint64(uint16(v)))
	}
	return h
}

// check looks at a new state: the consistency checker, WARNING, the
// RFC hazard and the kernel's invariants.
func (e *engine) check(pa, pw, ph int, st *state) {
	m := st.s.Sim()
	if m.Alarms() > pa {
		e.violate("consistency", lastEvent(m, sim.EvAlarm, force(m)), st, "expect no-alarm")
	}
	if m.Warnings() > pw {
		e.violate("warning", lastEvent(m, sim.EvWarning, ""), st, "expect no-warning")
	}
	if m.Hazards() > ph {
		e.violate("hazard", lastEvent(m, sim.EvHazard, ""), st, "expect no-hazard")
	}
	if err := m.CheckInvariants(); err != nil {
		e.violate("invariant", err.Error(), st, "")
	}
}

func force(m *sim.Sim) string {
	if m.UsedForce() {
		return " (a transition was forced)"
	}
	return ""
}

func lastEvent(m *sim.Sim, k sim.EventKind, suffix string) string {
	ev := m.Events()
	for i := len(ev) - 1; i >= 0; i-- {
		if ev[i].Kind == k {
			return ev[i].Text + suffix
		}
	}
	return string(k) + suffix
}

// liveStall is how long a completed interleaving may take to finish its
// transition once every task is left alone: four fake-signal rounds.
const liveStall = 60

// liveness: after the region, under fair scheduling (fairDrain) and with
// time passing (the kernel's retries and fake signals), the transition
// must complete; when it does not, the stalled tasks and why are named.
func (e *engine) liveness(st *state) {
	if e.found["liveness"] {
		return
	}
	m := st.s.Sim()
	if p, _ := m.InTransition(); p == "" {
		return
	}
	c := m.Clone()
	drain := fairDrain(c)
	if c.RunUntilSettled(uint64(liveStall * c.HZ())) {
		return
	}
	p, _ := c.InTransition()
	who, n := c.Blockers(3)
	why := fmt.Sprintf("%d task(s) stalled: %s", n, strings.Join(who, "; "))
	if n == 0 {
		// every task switched: what is left is klp_complete_transition's wait
		why = "every task switched, but klp_complete_transition does not finish"
		if gp, hold := c.Completing(); gp != "" {
			why = fmt.Sprintf("every task switched; klp_complete_transition waits for an RCU Tasks grace period held up by %s", strings.Join(hold, ", "))
		}
	}
	e.violate("liveness", fmt.Sprintf("the transition of %s does not complete within %d s after the region: %s", p, liveStall, why), st,
		strings.Join(append(drain, fmt.Sprintf("settle %d\nexpect transition none", liveStall)), "\n"))
}

// fairDrain is fair scheduling: what the kernel has begun on a CPU
// finishes (a fork's copy_process, a split ftrace handler or scheduler
// hook), then every task that can run gets to run to its switch point — a
// user task returns to user space, a kthread returns from its frames and
// goes back to sleep. Sleepers stay asleep (the kernel's fake signal is
// what wakes an interruptible one), and so do stopped and traced tasks:
// nothing obliges them to move.
func fairDrain(m *sim.Sim) []string {
	var did []string
	for _, n := range m.AppendPending(nil) {
		verb, pid, ok := finishing(n.Input)
		if !ok {
			continue // time's work: the settle after the drain runs it
		}
		if m.Step(n.Input) == nil {
			did = append(did, verb+strconv.Itoa(pid))
		}
	}
	for _, pid := range m.PIDs() {
		t, _ := m.Task(pid)
		if t.State != sim.Running && t.State != sim.Runnable {
			continue
		}
		if t.Kind == sim.Kthread {
			if n := len(t.Stack); n > 0 {
				for i := 0; i < n; i++ {
					_ = m.Return(pid)
				}
				did = append(did, fmt.Sprintf("ret %d %d", pid, n))
			}
			if m.Sleep(pid, false, false) == nil {
				did = append(did, fmt.Sprintf("block %d", pid))
			}
			continue
		}
		if t.InKernel && m.SyscallExit(pid) == nil {
			did = append(did, fmt.Sprintf("sysret %d", pid))
		}
	}
	return did
}

// violate records the first (so shortest) counterexample of a property.
func (e *engine) violate(prop, detail string, st *state, tail string) {
	if e.found[prop] {
		return
	}
	e.found[prop] = true
	steps := st.path.steps()
	var b strings.Builder
	b.WriteString(e.p.prefix)
	fmt.Fprintf(&b, "# explore found: %s: %s\n# the shortest interleaving (%d steps):\n", prop, oneLine(detail), len(steps))
	for _, s := range steps {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	if tail != "" {
		b.WriteString(tail + "\n")
	}
	v := Violation{Property: prop, Detail: detail, Steps: steps, Scenario: b.String()}
	e.res.Violations = append(e.res.Violations, v)
	if e.o.Found != nil {
		e.o.Found(v)
	}
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// mix is splitmix64's finaliser.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Explore prepares src and runs it with its own bounds (o overrides).
func Explore(file, src string, o Options) (*Result, error) {
	p, err := Prepare(file, src)
	if err != nil {
		return nil, err
	}
	return p.Run(o), nil
}
