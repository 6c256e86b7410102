//go:build js && wasm

package main

import (
	"fmt"

	"github.com/hack-pad/safejs"

	"github.com/klp-playground/klp/core/scenario"
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
