//go:build js && wasm

package main

import (
	"fmt"
	"math"
	"path"
	"sort"
	"time"
	"unicode/utf16"

	"github.com/hack-pad/safejs"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
	"github.com/klp-playground/klp/wasm/jsonenc"
)

const (
	// maxInstances bounds the sessions one page can hold: a widget that
	// forgets destroy() should hit a clear error, not exhaust memory.
	maxInstances = 256
	// maxInput bounds one create/exec text. The parser limits lines and
	// line length itself; this only avoids copying huge strings around.
	maxInput = 4 << 20
)

// instances are the sessions of the page, each with its timeline.
var (
	instances = map[int]*scenario.Timeline{}
	nextID    = 1
)

func handlers() map[string]handler {
	return map[string]handler{
		"create":        create,
		"destroy":       destroy,
		"startOutput":   startOutput,
		"exec":          exec,
		"execAll":       execAll,
		"view":          onSession(view),
		"viewPacked":    onSession(viewPacked),
		"viewDelta":     viewDelta,
		"events":        events,
		"log":           logLines,
		"logRange":      logRange,
		"tick":          tick,
		"settle":        settle,
		"source":        onSession((*scenario.Session).Source),
		"goals":         onSession(goals),
		"compactSource": onSession((*scenario.Session).CompactSource),
		"checkpoint":    checkpoint,
		"seek":          seek,
		"fork":          fork,
		"history":       history,
		"names":         names,
		"ls":            ls,
		"complete":      complete,
		"nextPid":       onSession((*scenario.Session).NextPID),
		"withProfile":   withProfile,
		"cost":          cost,
		"panels":        panels,
		"profiles":      profiles,
		"warmup":        warmup,
		"explore":       exploreScenario, // explore.go
		"load":          load,            // load.go
		"loadRun":       loadRun,
		"loadCancel":    loadCancel,
		"execStart":     execStart,
		"execRun":       execRun,
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

// boolean reads an optional boolean (false when absent).
func boolean(args []safejs.Value, i int, what string) (bool, error) {
	v := arg(args, i)
	if v.IsUndefined() || v.IsNull() {
		return false, nil
	}
	if v.Type() != safejs.TypeBoolean {
		return false, argErrorf("%s must be a boolean, got %s", what, v.Type())
	}
	return v.Bool()
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

func inst(args []safejs.Value) (*scenario.Timeline, int, error) {
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
	tl, err := scenario.NewTimeline("", text)
	if err != nil {
		return nil, err
	}
	id := nextID
	nextID++
	instances[id] = tl
	return id, nil
}

// cost(text) → {Tasks, Frames, Funcs, Modules, Steps, Seconds,
// MaxStmtSeconds, Regions}: what the scenario would use of the default
// budget, priced without running it (scenario.Cost), so that a share link
// over budget is refused before any of it runs; Regions is how many
// explore regions it has. A scenario that does not parse
// or passes a limit is an Error naming the line and the limit.
func cost(args []safejs.Value) (any, error) {
	text, err := str(args, 0, "scenario text")
	if err != nil {
		return nil, err
	}
	u, err := scenario.Cost("", text, scenario.DefaultBudget())
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"Tasks": u.Tasks, "Frames": u.Frames, "Funcs": u.Funcs, "Modules": u.Modules, "Steps": u.Steps,
		"Seconds": u.Seconds, "MaxStmtSeconds": u.MaxStmtSeconds, "Regions": u.Regions,
	}, nil
}

// startOutput(id) → [{kind, text, level}]: what running the scenario given
// to create printed (a terminal transcript of its shell commands).
func startOutput(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	return parseJSON(jsonenc.Output(nil, in.StartOutput()))
}

func destroy(args []safejs.Value) (any, error) {
	_, id, err := inst(args)
	if err != nil {
		return nil, err
	}
	delete(instances, id)
	delete(viewTrackers, id)
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

// run executes scenario text on the current timeline; with checkpoint, a
// checkpoint is stored when something was applied. A panic in the core
// comes back as an exception (the timeline restored its last checkpoint),
// a scenario error as data.
func run(in *scenario.Timeline, text string, checkpoint bool, maxLog int) (any, error) {
	out, err := in.Exec(text, checkpoint)
	return result(scenario.CapLog(out, maxLog), err)
}

// exec(id, line[, checkpoint[, maxLog]]) → {output: [{kind, text, level}],
// error: string|null}. A scenario error is data, not an exception: the
// console shows it and the session goes on. With checkpoint true, a
// checkpoint labelled with the line is stored when something was applied.
// With maxLog, only the first maxLog kernel log lines are sent, and a note
// counts the rest (scenario.CapLog): what the console shows while playing.
func exec(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	line, err := str(args, 1, "line")
	if err != nil {
		return nil, err
	}
	keep, err := boolean(args, 2, "checkpoint")
	if err != nil {
		return nil, err
	}
	maxLog, err := integer(args, 3, "maxLog", 0, true)
	if err != nil {
		return nil, err
	}
	return run(in, line, keep, maxLog)
}

// maxLines bounds execAll's list of inputs.
const maxLines = 1000

// execAll(id, lines) → {results: [{output, error}], note: string}: the
// lines as one action, all applied or none (scenario.Timeline.ExecAll);
// note says what was taken back, "" when nothing was.
func execAll(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	v := arg(args, 1)
	n := -1
	if v.Type() == safejs.TypeObject {
		if l, err := v.Length(); err == nil {
			n = l
		}
	}
	if n < 0 || n > maxLines {
		return nil, argErrorf("lines must be an array of at most %d strings", maxLines)
	}
	lines := make([]string, n)
	for i := range lines {
		x, err := v.Index(i)
		if err != nil {
			return nil, argErrorf("lines[%d]: %v", i, err)
		}
		if lines[i], err = str([]safejs.Value{x}, 0, fmt.Sprintf("lines[%d]", i)); err != nil {
			return nil, err
		}
	}
	res, note, err := in.ExecAll(lines)
	if err != nil {
		return nil, err
	}
	return parseJSON(jsonenc.Results(nil, res, note))
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
	return run(in, fmt.Sprintf("tick %d", n), false, 0)
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
		return run(in, "settle", false, 0)
	}
	return run(in, fmt.Sprintf("settle %g", sec), false, 0)
}

// onSession makes a handler of f(id) → f of that instance's current
// session.
func onSession[T any](f func(*scenario.Session) T) handler {
	return func(args []safejs.Value) (any, error) {
		in, _, err := inst(args)
		if err != nil {
			return nil, err
		}
		return f(in.Session()), nil
	}
}

// view(id) → the view as JSON.
func view(s *scenario.Session) string {
	v := s.Sim().View()
	return string(jsonenc.View(nil, &v))
}

// viewPacked(id) → the view as JSON with the tasks' frames shared (see
// jsonenc.ViewPacked); web/lib/session.js unpacks it. With thousands of
// tasks it is a tenth of view's size and several times faster.
func viewPacked(s *scenario.Session) string {
	v := s.Sim().View()
	return string(jsonenc.ViewPacked(nil, &v))
}

// goals(id) → JSON {goals: [{Goal, OK, Reason}], failures: N}.
func goals(s *scenario.Session) string {
	g := s.Goals()
	if g == nil {
		g = []scenario.GoalResult{}
	}
	return string(jsonenc.Goals(nil, g, s.Failures()))
}

// source(id) is the session's scenario text (Session.Source);
// compactSource(id) the same with runs of ticks merged, what a share link
// carries; nextPid(id) the pid the spawn form offers.

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
	m := in.Session().Sim()
	return string(jsonenc.Events(nil, tail(m.Events(), since-m.EventBase(), limit))), nil
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
	m := in.Session().Sim()
	return logJSON(tail(m.Log(), since-m.LogBase(), limit)), nil
}

// logRange(id, fromSeq, count) → the log lines with Seq in [fromSeq,
// fromSeq+count) still in the ring: what the log panel fetches for an
// old block when it is scrolled to.
func logRange(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	from, err := integer(args, 1, "fromSeq", 0, false)
	if err != nil {
		return nil, err
	}
	count, err := integer(args, 2, "count", 0, false)
	if err != nil {
		return nil, err
	}
	m := in.Session().Sim()
	l := m.Log()
	lo := min(max(from-m.LogBase(), 0), len(l))
	hi := min(max(from+count-m.LogBase(), lo), len(l))
	return logJSON(l[lo:hi]), nil
}

func logJSON(src []sim.LogLine) string {
	out := make([]jsonenc.LogLine, len(src))
	for i, l := range src {
		out[i] = jsonenc.LogLine{Seq: l.Seq, Time: l.Time, Level: l.Level.String(), Text: l.Text, Dmesg: l.Dmesg()}
	}
	return string(jsonenc.LogLines(nil, out))
}

// tail returns l[since:], cut to its last limit elements when limit > 0.
// since is a Seq minus the ring's base (the oldest records may have been
// overwritten), so it is clamped at both ends.
func tail[T any](l []T, since, limit int) []T {
	since = min(max(since, 0), len(l))
	l = l[since:]
	if limit > 0 && len(l) > limit {
		l = l[len(l)-limit:]
	}
	if l == nil {
		l = []T{}
	}
	return l
}

// --- time travel ------------------------------------------------------------
// The timeline lives in core/scenario (Timeline); these only carry it.

// checkpoint(id[, label]) → index.
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
	}
	return in.Checkpoint(label), nil
}

// seek(id, index) → index.
func seek(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	i, err := integer(args, 1, "index", 0, false)
	if err != nil {
		return nil, err
	}
	if err := in.Seek(i); err != nil {
		return nil, argErrorf("%v", err)
	}
	return i, nil
}

// fork(id) → position: discards the checkpoints after it.
func fork(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	return in.Fork(), nil
}

// history(id) → {pos, count, labels}.
func history(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	h := in.History()
	return map[string]any{"pos": h.Pos, "count": h.Count, "labels": strs(h.Labels)}, nil
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
	m := in.Session().Sim()
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
		"events":   strs(scenario.EventKinds()),
	}, nil
}

// complete(id, line, caret) → {insert, matches}: what Tab does at the
// caret (a UTF-16 index, as the textarea gives it) of the console's input.
func complete(args []safejs.Value) (any, error) {
	in, _, err := inst(args)
	if err != nil {
		return nil, err
	}
	line, err := str(args, 1, "line")
	if err != nil {
		return nil, err
	}
	caret, err := integer(args, 2, "caret", 0, false)
	if err != nil {
		return nil, err
	}
	c := in.Session().Complete(line, utf16Offset(line, caret))
	return map[string]any{"insert": c.Insert, "matches": strs(c.Matches)}, nil
}

// utf16Offset turns an index in UTF-16 code units into a byte offset.
func utf16Offset(s string, units int) int {
	n := 0
	for i, r := range s {
		if n >= units {
			return i
		}
		n += utf16.RuneLen(r)
	}
	return len(s)
}

// withProfile(text, profile) → the scenario with its kernel line set.
func withProfile(args []safejs.Value) (any, error) {
	text, err := str(args, 0, "scenario text")
	if err != nil {
		return nil, err
	}
	p, err := str(args, 1, "profile")
	if err != nil {
		return nil, err
	}
	return scenario.WithProfile(text, p), nil
}

// panels() → the panel names a widget knows.
func panels(_ []safejs.Value) (any, error) {
	return strs(scenario.Panels()), nil
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
	ents, err := in.Session().Sim().ReadDir(path.Clean("/" + p))
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
