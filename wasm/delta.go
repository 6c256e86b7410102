//go:build js && wasm

package main

import (
	"github.com/hack-pad/safejs"

	"github.com/klp-playground/klp/core/sim"
	"github.com/klp-playground/klp/wasm/jsonenc"
)

// viewTrackers remember, per instance, what viewDelta last sent.
var viewTrackers = map[int]*sim.ViewTracker{}

// viewDelta(id) → JSON of sim.ViewDelta: the view with only the tasks
// that changed since the instance's last viewDelta (all of them the first
// time, or after the timeline moved to another machine), packed as
// viewPacked packs; web/lib/viewdelta.js applies it to the last view.
func viewDelta(args []safejs.Value) (any, error) {
	in, id, err := inst(args)
	if err != nil {
		return nil, err
	}
	tr := viewTrackers[id]
	if tr == nil {
		tr = &sim.ViewTracker{}
		viewTrackers[id] = tr
	}
	d := in.Session().Sim().ViewDelta(tr)
	return string(jsonenc.ViewDelta(nil, &d)), nil
}
