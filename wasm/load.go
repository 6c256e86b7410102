//go:build js && wasm

package main

import (
	"fmt"

	"github.com/hack-pad/safejs"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/wasm/jsonenc"
)

// loaders are scenarios being loaded a slice at a time (scenario.Loader):
// the page runs a big share link between frames instead of in one call
// that would freeze it for seconds.
var (
	loaders      = map[int]*scenario.Loader{}
	nextLoaderID = 1
)

// maxLoaders bounds loads in progress; a page that starts loads and never
// finishes or cancels them gets a clear error.
const maxLoaders = 16

// load(text) → loader id. The scenario is parsed and priced first: a
// syntax error or a budget it passes is an Error at once, and nothing runs.
func load(args []safejs.Value) (any, error) {
	text, err := str(args, 0, "scenario text")
	if err != nil {
		return nil, err
	}
	if len(loaders) >= maxLoaders {
		return nil, fmt.Errorf("too many loads in progress (%d); cancel unused ones", maxLoaders)
	}
	if len(instances) >= maxInstances {
		return nil, fmt.Errorf("too many instances (%d); destroy unused ones", maxInstances)
	}
	l, err := scenario.NewLoader("", text)
	if err != nil {
		return nil, err
	}
	id := nextLoaderID
	nextLoaderID++
	loaders[id] = l
	return id, nil
}

// loadRun(loader, units) → {done, started, total, id}: runs about units
// units of work (see scenario.Loader). When done, the loader is gone and
// id is the new instance (as create returns); a scenario error is an
// Error, and the loader is gone too.
func loadRun(args []safejs.Value) (any, error) {
	lid, err := integer(args, 0, "loader id", 0, false)
	if err != nil {
		return nil, err
	}
	units, err := integer(args, 1, "units", 1, true)
	if err != nil {
		return nil, err
	}
	l, ok := loaders[lid]
	if !ok {
		return nil, argErrorf("no loader %d (finished, cancelled, or never started)", lid)
	}
	done, err := l.Run(max(units, 1))
	started, total := l.Progress()
	res := map[string]any{"done": done, "started": started, "total": total}
	if !done {
		return res, nil
	}
	delete(loaders, lid)
	if err != nil {
		return nil, err
	}
	id := nextID
	nextID++
	instances[id] = l.Timeline()
	res["id"] = id
	return res, nil
}

// loadCancel(loader): drops a load in progress; nothing of it is kept.
func loadCancel(args []safejs.Value) (any, error) {
	lid, err := integer(args, 0, "loader id", 0, false)
	if err != nil {
		return nil, err
	}
	_, ok := loaders[lid]
	delete(loaders, lid)
	return ok, nil
}

// execRuns are console inputs running a slice at a time
// (scenario.Timeline.Start), so a long statement never freezes the page.
var (
	execRuns  = map[int]*scenario.ExecRun{}
	nextRunID = 1
)

// result is exec's answer for what an input printed and its error.
func result(out []scenario.Out, e error) (any, error) {
	if _, ok := e.(*scenario.InternalError); ok {
		return nil, e
	}
	errText := ""
	if e != nil {
		errText = e.Error()
	}
	return parseJSON(jsonenc.Result(nil, out, errText, e != nil))
}

// execStart(id, line[, checkpoint]) → {run} to go on with execRun, or,
// when the line does not parse, exec's answer with its error. Until the
// run is done the page must not change the session otherwise.
func execStart(args []safejs.Value) (any, error) {
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
	r, e := in.Start(line, keep)
	if e != nil {
		return result(nil, e)
	}
	if len(execRuns) >= maxLoaders {
		return nil, fmt.Errorf("too many inputs running (%d)", maxLoaders)
	}
	id := nextRunID
	nextRunID++
	execRuns[id] = r
	return map[string]any{"run": id}, nil
}

// execRun(run, units) → {done: false, started, total} while it runs, then
// exec's answer ({output, error}: no done field); the run is then gone.
func execRun(args []safejs.Value) (any, error) {
	rid, err := integer(args, 0, "run id", 0, false)
	if err != nil {
		return nil, err
	}
	units, err := integer(args, 1, "units", 1, true)
	if err != nil {
		return nil, err
	}
	r, ok := execRuns[rid]
	if !ok {
		return nil, argErrorf("no run %d (finished, or never started)", rid)
	}
	done, out, e := r.Run(max(units, 1))
	if !done {
		started, total := r.Progress()
		return map[string]any{"done": false, "started": started, "total": total}, nil
	}
	delete(execRuns, rid)
	return result(out, e)
}
