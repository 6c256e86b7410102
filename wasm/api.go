//go:build js && wasm

package main

import (
	"fmt"
	"math"
	"path"
	"sort"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
	"github.com/klp-playground/klp/wasm/jsonenc"
)

const (
	// maxInstances bounds the sessions one page can hold: a widget that
	// forgets destroy() should hit a clear error, not exhaust memory.
	maxInstances = 256
	// maxHistory bounds the checkpoints of one session; the oldest are
	// dropped first (clones share the log, so each costs one task table).
	maxHistory = 2000
	// maxInput bounds one create/exec text. The parser limits lines and
	// line length itself; this only avoids copying huge strings around.
	maxInput = 4 << 20
)

// instance is one session with its time-travel history.
type instance struct {
	cur    *scenario.Session
	hist   []*scenario.Session // pristine clones; never run
	labels []string
	pos    int            // index in hist of the checkpoint cur descends from, -1 none
	start  []scenario.Out // what running the scenario printed

	views sim.ViewTracker // what viewDelta last sent (delta.go)
}

var (
	instances = map[int]*instance{}
	nextID    = 1
)

func handlers() map[string]handler {
	return map[string]handler{
		"create":      create,
		"destroy":     destroy,
		"startOutput": startOutput,
		"exec":        exec,
		"view":        view,
		"viewPacked":  viewPacked,
		"viewDelta":   viewDelta,
		"events":      events,
		"log":         logLines,
		"tick":        tick,
		"settle":      settle,
		"source":      source,
		"goals":       goals,
		"checkpoint":  checkpoint,
		"seek":        seek,
		"fork":        fork,
		"history":     history,
		"names":       names,
		"ls":          ls,
		"profiles":    profiles,
		"warmup":      warmup,
	}
}

// --- argument conversion -------------------------------------------------

func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}

func str(args []safejs.Value, i int, what string) (string, error) {
	v := arg(args, i)
	if v.Type() != safejs.TypeString {
		return "", argErrorf("%s must be a string, got %s", what, v.Type())
	}
	s, err := v.String()
	if err != nil {
		return "", argErrorf("%s: %v", what, err)
	}
	if len(s) > maxInput {
		return "", argErrorf("%s is too long (%d bytes, at most %d)", what, len(s), maxInput)
	}
	return s, nil
}

// num reads a finite number; optional arguments default to def.
func num(args []safejs.Value, i int, what string, def float64, optional bool) (float64, error) {
	v := arg(args, i)
	if optional && (v.IsUndefined() || v.IsNull()) {
		return def, nil
	}
	if v.Type() != safejs.TypeNumber {
		return 0, argErrorf("%s must be a number, got %s", what, v.Type())
	}
	f, err := v.Float()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, argErrorf("%s must be a finite number", what)
	}
	return f, nil
}

func integer(args []safejs.Value, i int, what string, def int, optional bool) (int, error) {
	f, err := num(args, i, what, float64(def), optional)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || f < 0 || f > 1<<40 {
		return 0, argErrorf("%s must be a non-negative integer, got %v", what, f)
	}
	return int(f), nil
}

func inst(args []safejs.Value) (*instance, int, error) {
	id, err := integer(args, 0, "id", 0, false)
	if err != nil {
		return nil, 0, err
	}
	in, ok := instances[id]
	if !ok {
		return nil, 0, argErrorf("no instance %d (destroyed, or never created)", id)
	}
	return in, id, nil
}

// --- sessions ---------------------------------------------------------------

// create(text) → id. A scenario error comes back as an Error whose message
// names line and column ("scenario:3:7: ...").
func create(args []safejs.Value) (any, error) {
	text, err := str(args, 0, "scenario text")
	if err != nil {
		return nil, err
	}
	if len(instances) >= maxInstances {
		return nil, fmt.Errorf("too many instances (%d); destroy unused ones", maxInstances)
	}
	s, out, err := scenario.NewSession("", text)
	if err != nil {
		return nil, err
	}
	id := nextID
	nextID++
	instances[id] = &instance{cur: s, pos: -1, start: out}
	return id, nil
}

// startOutput(id) → [{kind, text, level}]: what running the scenario given
// to create printed (a terminal transcript of its shell commands).
func startOutput(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	return parseJSON(jsonenc.Output(nil, in.start))
}

func destroy(args []safejs.Value) (any, error) {
	_, id, err := inst(args)
	if err != nil {
		return nil, err
	}
	delete(instances, id)
	return true, nil
}

// parseJSON turns JSON text into JavaScript values. What a statement
// printed goes this way: a sweep over thousands of tasks prints thousands
// of lines, and one JSON.parse builds them much faster than setting the
// properties of each object through syscall/js.
func parseJSON(b []byte) (any, error) {
	j, err := safejs.Global().Get("JSON")
	if err != nil {
		return nil, err
	}
	return j.Call("parse", string(b))
}

// run executes scenario text on the current session. A panic in the core
// would leave the session half-changed, so it is recovered here and the
// session is put back to its last checkpoint (or kept, if none) before the
// error is reported.
func (in *instance) run(text string) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := "state kept as it was"
			if in.pos >= 0 {
				in.cur = in.hist[in.pos].Clone()
				msg = "state restored to the last checkpoint"
			}
			res, err = nil, fmt.Errorf("internal error in the simulator (%s): %v", msg, r)
		}
	}()
	out, e := in.cur.Exec(text)
	errText := ""
	if e != nil {
		errText = e.Error()
	}
	return parseJSON(jsonenc.Result(nil, out, errText, e != nil))
}

// exec(id, line) → {output: [{kind, text, level}], error: string|null}. A
// scenario error is data, not an exception: the console shows it and the
// session goes on.
func exec(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	line, err := str(args, 1, "line")
	if err != nil {
		return nil, err
	}
	return in.run(line)
}

// tick and settle are shorthands for the statements, so that time passing
// is recorded in Source() like every other action.
func tick(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	n, err := integer(args, 1, "jiffies", 1, true)
	if err != nil {
		return nil, err
	}
	return in.run(fmt.Sprintf("tick %d", n))
}

func settle(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	sec, err := num(args, 1, "seconds", -1, true)
	if err != nil {
		return nil, err
	}
	if sec < 0 {
		return in.run("settle")
	}
	return in.run(fmt.Sprintf("settle %g", sec))
}

func view(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	v := in.cur.Sim().View()
	return string(jsonenc.View(nil, &v)), nil
}

// viewPacked(id) → the view as JSON with the tasks' frames shared (see
// jsonenc.ViewPacked); web/lib/session.js unpacks it. With thousands of
// tasks it is a tenth of view's size and several times faster.
func viewPacked(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	v := in.cur.Sim().View()
	return string(jsonenc.ViewPacked(nil, &v)), nil
}

// events(id, sinceSeq[, limit]) → JSON array of sim.Event with Seq ≥
// sinceSeq; with a limit, only the newest that many.
func events(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	since, err := integer(args, 1, "sinceSeq", 0, true)
	if err != nil {
		return nil, err
	}
	limit, err := integer(args, 2, "limit", 0, true)
	if err != nil {
		return nil, err
	}
	return string(jsonenc.Events(nil, tail(in.cur.Sim().Events(), since, limit))), nil
}

// log(id, sinceSeq[, limit]) → JSON array of kernel log lines.
func logLines(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	since, err := integer(args, 1, "sinceSeq", 0, true)
	if err != nil {
		return nil, err
	}
	limit, err := integer(args, 2, "limit", 0, true)
	if err != nil {
		return nil, err
	}
	src := tail(in.cur.Sim().Log(), since, limit)
	out := make([]jsonenc.LogLine, len(src))
	for i, l := range src {
		out[i] = jsonenc.LogLine{Seq: l.Seq, Time: l.Time, Level: l.Level.String(), Text: l.Text, Dmesg: l.Dmesg()}
	}
	return string(jsonenc.LogLines(nil, out)), nil
}

// tail returns l[since:], cut to its last limit elements when limit > 0.
// Seq numbers of the log and the events are their indexes.
func tail[T any](l []T, since, limit int) []T {
	if since > len(l) {
		since = len(l)
	}
	l = l[since:]
	if limit > 0 && len(l) > limit {
		l = l[len(l)-limit:]
	}
	if l == nil {
		l = []T{}
	}
	return l
}

func source(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	return in.cur.Source(), nil
}

// goals(id) → JSON {goals: [{Goal, OK, Reason}], failures: N}.
func goals(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	g := in.cur.Goals()
	if g == nil {
		g = []scenario.GoalResult{}
	}
	return string(jsonenc.Goals(nil, g, in.cur.Failures())), nil
}

// --- time travel ------------------------------------------------------------

// checkpoint(id[, label]) → index. It stores a clone of the session as it
// is now. Checkpoints after the current position are the future of an
// earlier state the user went back to; a new checkpoint discards them
// ("fork from here"), as in RaftScope's timeline.
func checkpoint(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	label := ""
	if v := arg(args, 1); !v.IsUndefined() && !v.IsNull() {
		if label, err = str(args, 1, "label"); err != nil {
			return nil, err
		}
		if len(label) > 200 {
			label = label[:200]
		}
	}
	in.truncate()
	in.hist = append(in.hist, in.cur.Clone())
	in.labels = append(in.labels, label)
	if len(in.hist) > maxHistory {
		drop := len(in.hist) - maxHistory
		in.hist = append([]*scenario.Session(nil), in.hist[drop:]...)
		in.labels = append([]string(nil), in.labels[drop:]...)
	}
	in.pos = len(in.hist) - 1
	return in.pos, nil
}

func (in *instance) truncate() {
	if in.pos+1 < len(in.hist) {
		for i := in.pos + 1; i < len(in.hist); i++ {
			in.hist[i] = nil // let the clones be collected
		}
		in.hist = in.hist[:in.pos+1]
		in.labels = in.labels[:in.pos+1]
	}
}

// seek(id, index) makes a copy of that checkpoint the current session. The
// checkpoints after it stay until the next checkpoint or fork.
func seek(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	i, err := integer(args, 1, "index", 0, false)
	if err != nil {
		return nil, err
	}
	if i >= len(in.hist) {
		return nil, argErrorf("no checkpoint %d (have %d)", i, len(in.hist))
	}
	in.cur = in.hist[i].Clone()
	in.pos = i
	return i, nil
}

// fork(id) discards the checkpoints after the current position.
func fork(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	in.truncate()
	return in.pos, nil
}

// history(id) → {pos, count, labels}.
func history(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	labels := make([]any, len(in.labels))
	for i, l := range in.labels {
		labels[i] = l
	}
	return map[string]any{"pos": in.pos, "count": len(in.hist), "labels": labels}, nil
}

// --- completion data --------------------------------------------------------

func strs(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// names(id) → {verbs, pids, funcs, modules, profiles} for the console's
// Tab completion and the forms' pickers.
func names(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	m := in.cur.Sim()
	pids := make([]any, 0)
	for _, p := range m.PIDs() {
		pids = append(pids, p)
	}
	funcs := m.FuncNames()
	sort.Strings(funcs)
	return map[string]any{
		"verbs":    strs(scenario.Verbs()),
		"pids":     pids,
		"funcs":    strs(funcs),
		"modules":  strs(m.ModuleNames()),
		"profiles": strs(sim.Presets()),
		"expect":   strs(scenario.ExpectForms()),
		"events":   strs(eventKinds()),
	}, nil
}

func eventKinds() []string {
	var out []string
	for _, k := range sim.EventKinds() {
		out = append(out, string(k))
	}
	return out
}

// ls(id, path) → [{name, dir}] of a simulated directory, or [] when the
// path is not a directory (completion asks about half-typed paths).
func ls(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	p, err := str(args, 1, "path")
	if err != nil {
		return nil, err
	}
	ents, err := in.cur.Sim().ReadDir(path.Clean("/" + p))
	if err != nil {
		return []any{}, nil
	}
	out := make([]any, 0, len(ents))
	for _, e := range ents {
		out = append(out, map[string]any{"name": e.Name, "dir": e.Dir})
	}
	return out, nil
}

func profiles(_ []safejs.Value) (any, error) {
	return strs(sim.Presets()), nil
}

// warmupScenario exercises the parser, a transition and the view, so V8
// tiers up those paths before the user's first action (a function's first
// long run stays in the baseline compiler; see wasm-notes §4).
const warmupScenario = `cpus 2
vmlinux do_syscall_64 ksys_read vfs_read seq_read cmdline_proc_show/0x30 schedule
livepatch warm
  object vmlinux
    func cmdline_proc_show -> warm_cmdline_proc_show/0x30
end
task 42 cat state=S stack=do_syscall_64>ksys_read>vfs_read>seq_read>cmdline_proc_show+0x1a>schedule
spawn-random 50 frames=6
insmod warm
settle 20
`

// warmup([rounds]) → milliseconds spent.
func warmup(args []safejs.Value) (any, error) {
	rounds, err := integer(args, 0, "rounds", 3, true)
	if err != nil {
		return nil, err
	}
	rounds = min(rounds, 20)
	t0 := time.Now()
	for range rounds {
		s, _, err := scenario.NewSession("warmup", warmupScenario)
		if err != nil {
			return nil, fmt.Errorf("warm-up scenario: %v", err)
		}
		v := s.Sim().View()
		_ = jsonenc.ViewPacked(nil, &v)
		_ = s.Clone()
	}
	return float64(time.Since(t0).Microseconds()) / 1000, nil
}
