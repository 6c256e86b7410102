//go:build js && wasm

package main

import (
	"runtime/debug"

	"github.com/hack-pad/safejs"

	"github.com/klp-playground/klp/core/explore"
)

// exploreScenario is klp.explore(src, steps?, states?, noReduce?,
// progress?, found?, memory?): every interleaving of the scenario's explore region
// (see core/explore), as plain data. It runs to the end in the calling
// thread, so the page calls it in a Web Worker (web/explore-worker.js) and
// cancels by ending the worker. progress, a function, gets {states,
// transitions, completed, depth, frontier} every few thousand
// transitions; returning false stops the search early. found, a
// function, gets each broken property's counterexample {property,
// detail, steps, scenario} as soon as the search finds it. memory, in MB,
// is the most the search may hold of states at once, whatever the
// region's memory= says (0 or none: pageMemory): the page sizes it to
// the device.
func exploreScenario(args []safejs.Value) (any, error) {
	src, err := str(args, 0, "scenario")
	if err != nil {
		return nil, err
	}
	steps, err := integer(args, 1, "steps", 0, true)
	if err != nil {
		return nil, err
	}
	states, err := integer(args, 2, "states", 0, true)
	if err != nil {
		return nil, err
	}
	noReduce, err := boolean(args, 3, "noReduce")
	if err != nil {
		return nil, err
	}
	capMB, err := integer(args, 6, "memory", 0, true)
	if err != nil {
		return nil, err
	}
	limit := pageMemory
	if capMB > 0 {
		limit = min(limit, capMB<<20)
	}
	o := explore.Options{Steps: steps, MaxStates: states, NoReduce: noReduce}
	if fn := arg(args, 4); fn.Type() == safejs.TypeFunction {
		o.ProgressEvery = 2000
		o.Progress = func(s explore.Stats) bool {
			v, err := safejs.ValueOf(statsMap(s))
			if err != nil {
				return true
			}
			r, err := fn.Invoke(v)
			if err != nil {
				return true
			}
			if r.Type() == safejs.TypeBoolean {
				b, _ := r.Bool()
				return b
			}
			return true
		}
	}
	if fn := arg(args, 5); fn.Type() == safejs.TypeFunction {
		o.Found = func(v explore.Violation) {
			if m, err := safejs.ValueOf(violationMap(v)); err == nil {
				_, _ = fn.Invoke(m)
			}
		}
	}
	// The search allocates a state per choice and drops most at once;
	// under WebAssembly the GC runs in the search's own thread, and with
	// the default GOGC it took about a third of a warm search (Node,
	// bench.klp). So during a search collect only when the heap nears
	// searchHeap; the settings come back after it (the page's worker is
	// kept for the next search).
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(searchHeap))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	p, err := explore.Prepare("scenario", src)
	if err != nil {
		return nil, err
	}
	// A page's worker shares the tab's memory: a region's memory= over
	// the limit (a share link's, say) is held to it, so that a search
	// ends at its bound instead of taking the tab down.
	capped := p.Options().MaxMemory > limit
	if capped {
		o.MaxMemory = limit
	}
	r := p.Run(o)
	vs := make([]any, 0, len(r.Violations))
	for _, v := range r.Violations {
		vs = append(vs, violationMap(v))
	}
	out := statsMap(r.Stats)
	out["bound"] = r.Bound
	out["cancelled"] = r.Cancelled
	out["setBytes"] = r.SetBytes
	out["heldBytes"] = r.HeldBytes
	out["maxMemory"] = r.Options.MaxMemory
	out["capped"] = capped // the page's limit, not the region's memory=
	out["reduce"] = r.Options.Reduce
	out["maxSteps"] = r.Options.Steps
	out["maxStates"] = r.Options.MaxStates
	out["seconds"] = r.Options.Seconds
	out["violations"] = vs
	out["properties"] = strs(explore.Properties)
	return out, nil
}

// searchHeap is the heap a search grows to before the GC runs.
const searchHeap = 512 << 20

// pageMemory is the most a search in the page may hold of states at once
// (explore's memory=, in bytes).
const pageMemory = 1 << 30

func statsMap(s explore.Stats) map[string]any {
	return map[string]any{"states": s.States, "transitions": s.Transitions, "completed": s.Completed, "depth": s.Depth, "frontier": s.Frontier}
}

func violationMap(v explore.Violation) map[string]any {
	return map[string]any{"property": v.Property, "detail": v.Detail, "steps": strs(v.Steps), "scenario": v.Scenario}
}
