package explore

import (
	"strconv"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
)

// node kinds of a compiled region.
const (
	kStmt = iota
	kSeq  // explore's body, in-order, either's branches
	kAny  // any-order
	kEither
)

// node is one item of the region; ids are preorder, so a node's subtree
// is the id range [id, end).
type node struct {
	kind     int
	stmt     scenario.Stmt
	text     string
	children []int
	end      int
	slot     int  // its position counter in State.pc (stmt: done; seq: index; either: branch+1)
	local    int  // pid of a task-local action, else -1
	check    bool // expect/goal: applied as soon as it is enabled, never a choice
	parent   int
	inAnyExp bool
}

// region is the compiled explore region: the chooser of the scenario's
// own choices.
type region struct {
	nodes []node
	slots int
	tick  uint64
	// reduceOK is false when an expect or goal sits inside an any-order,
	// where commuting two actions would move the check (see doc.go).
	reduceOK bool
	checks   bool // the region has an expect or goal
}

// taskLocal are the actions that touch only their own task, its CPU (the
// one it runs on, which no other task can hold) and that CPU's idle task,
// and read shared state without writing it; two of them on different
// pids commute. Anything else (shell commands, run, fork, exit, kill,
// tick, hotplug) is treated as touching everything.
var taskLocal = map[string]bool{"call": true, "ret": true, "block": true, "wake": true,
	"syscall": true, "sysret": true, "cond_resched": true, "unreliable": true, "norcu": true}

func compile(st scenario.Stmt, tick uint64) *region {
	r := &region{tick: tick, reduceOK: true}
	r.add(kSeq, scenario.Stmt{}, st.Body, -1, false)
	return r
}

func (r *region) add(kind int, st scenario.Stmt, body []scenario.Stmt, parent int, underAny bool) int {
	id := len(r.nodes)
	r.nodes = append(r.nodes, node{kind: kind, stmt: st, slot: r.slots, local: -1, parent: parent})
	r.slots++
	if kind == kStmt {
		n := &r.nodes[id]
		n.text = st.String()
		if st.Verb == "expect" || st.Verb == "goal" {
			n.check = true
			r.checks = true
			if underAny {
				r.reduceOK = false
			}
		}
		if taskLocal[st.Verb] && len(st.Args) > 0 {
			if pid, err := strconv.Atoi(st.Args[0].Val); err == nil {
				n.local = pid
			}
		}
		r.nodes[id].end = id + 1
		return id
	}
	var kids []int
	for _, it := range body {
		switch it.Verb {
		case "any-order":
			kids = append(kids, r.add(kAny, it, it.Body, id, true))
		case "in-order":
			kids = append(kids, r.add(kSeq, it, it.Body, id, underAny))
		case "either":
			e := len(r.nodes)
			r.nodes = append(r.nodes, node{kind: kEither, stmt: it, slot: r.slots, local: -1, parent: id})
			r.slots++
			var br []int
			for _, b := range it.Body {
				br = append(br, r.add(kSeq, b, b.Body, e, underAny))
			}
			r.nodes[e].children = br
			r.nodes[e].end = len(r.nodes)
			kids = append(kids, e)
		default:
			kids = append(kids, r.add(kStmt, it, nil, id, underAny))
		}
	}
	r.nodes[id].children = kids
	r.nodes[id].end = len(r.nodes)
	return id
}

func (r *region) done(pc []int16, n int) bool {
	nd := &r.nodes[n]
	switch nd.kind {
	case kStmt:
		return pc[nd.slot] == 1
	case kSeq:
		return int(pc[nd.slot]) >= len(nd.children)
	case kAny:
		for _, c := range nd.children {
			if !r.done(pc, c) {
				return false
			}
		}
		return true
	default:
		if ch := pc[nd.slot]; ch > 0 {
			return r.done(pc, nd.children[ch-1])
		}
		for _, c := range nd.children {
			if len(r.nodes[c].children) == 0 {
				return true // an empty branch: taking nothing is a way through
			}
		}
		return false
	}
}

// enabled appends the statements that may run next.
func (r *region) enabled(pc []int16, n int, out []int) []int {
	nd := &r.nodes[n]
	switch nd.kind {
	case kStmt:
		if pc[nd.slot] == 0 {
			out = append(out, n)
		}
	case kSeq:
		if i := int(pc[nd.slot]); i < len(nd.children) {
			out = r.enabled(pc, nd.children[i], out)
		}
	case kAny:
		for _, c := range nd.children {
			out = r.enabled(pc, c, out)
		}
	default:
		if ch := pc[nd.slot]; ch > 0 {
			return r.enabled(pc, nd.children[ch-1], out)
		}
		for _, c := range nd.children {
			out = r.enabled(pc, c, out)
		}
	}
	return out
}

// take marks statement t as run, moving the counters of the nodes above it.
func (r *region) take(pc []int16, n, t int) {
	nd := &r.nodes[n]
	switch nd.kind {
	case kStmt:
		pc[nd.slot] = 1
	case kSeq:
		i := int(pc[nd.slot])
		r.take(pc, nd.children[i], t)
		for i < len(nd.children) && r.done(pc, nd.children[i]) {
			i++
		}
		pc[nd.slot] = int16(i)
	default:
		for bi, c := range nd.children {
			if t >= c && t < r.nodes[c].end {
				if nd.kind == kEither {
					pc[nd.slot] = int16(bi + 1)
				}
				r.take(pc, c, t)
				return
			}
		}
	}
}

// commute tells whether region statements a and b belong to different
// items of one any-order, so that running either leaves the other enabled.
func (r *region) commute(a, b int) bool {
	// The lowest common ancestor: climb from a until b is in the subtree.
	p := r.nodes[a].parent
	for p >= 0 && (b < p || b >= r.nodes[p].end) {
		p = r.nodes[p].parent
	}
	return p >= 0 && r.nodes[p].kind == kAny
}

// pendingChoices lists the kernel's own work that may come next, from
// sim.Pending(), as the scenario statements that step it: the second half
// of a fork (fork-finish), of a split call (call-finish) or of a split
// cond_resched hook (cond_resched-finish), the tick that switches
// user-mode tasks (tick 1), the delayed transition work's timer (tick up to its jiffy), the end of
// an RCU Tasks grace period an unpatch waits for (the same); and, with
// tick=N, N jiffies passing. A kicked idle loop (sim.IdleLoop) has no
// statement of its own yet: it runs with the next tick.
func pendingChoices(m *sim.Sim, tick uint64, out []Choice, next *[]sim.Next, texts *choiceTexts) []Choice {
	have := func(t string) bool {
		for _, c := range out {
			if c.Text == t {
				return true
			}
		}
		return false
	}
	add := func(c Choice) {
		if !have(c.Text) {
			out = append(out, c)
		}
	}
	*next = m.AppendPending((*next)[:0])
	for _, n := range *next {
		if verb, pid, ok := finishing(n.Input); ok {
			add(Choice{Text: texts.get(verb, uint64(pid)), node: -1})
			continue
		}
		switch n.Input.(type) {
		case sim.Tick, sim.TransitionWork, sim.RCUTasksGP:
			if n.At > m.Jiffies() {
				k := n.At - m.Jiffies()
				add(Choice{Text: texts.get("tick ", k), node: -1, jiffies: k})
			}
		}
	}
	if tick > 0 {
		add(Choice{Text: texts.get("tick ", tick), node: -1, jiffies: tick})
	}
	return out
}

// finishing names the statement (verb and pid, the verb with its space)
// that lets what the kernel began on a CPU go on: a fork's
// copy_process, a split ftrace handler, a split scheduler hook.
func finishing(in sim.Input) (string, int, bool) {
	switch in := in.(type) {
	case sim.ForkFinish:
		return "fork-finish ", in.Child, true
	case sim.CallFinish:
		return "call-finish ", in.PID, true
	case sim.CondReschedFinish:
		return "cond_resched-finish ", in.PID, true
	}
	return "", 0, false
}

// choiceTexts keeps the kernel's work's statements as text, built once
// each: a search offers the same few at most states.
type choiceTexts map[choiceKey]string

type choiceKey struct {
	verb string
	n    uint64
}

func (t *choiceTexts) get(verb string, n uint64) string {
	k := choiceKey{verb, n}
	if s, ok := (*t)[k]; ok {
		return s
	}
	if *t == nil {
		*t = choiceTexts{}
	}
	s := verb + strconv.FormatUint(n, 10)
	(*t)[k] = s
	return s
}
