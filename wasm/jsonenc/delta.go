package jsonenc

import "github.com/klp-playground/klp/core/sim"

// ViewDelta appends the JSON of d: the packed view of its View (only the
// changed tasks in Tasks, their frames in Frames), then "Changed", "Keys"
// (null when the task list kept its order) and "Full". web/lib/
// viewdelta.js applies it to the last view.
func ViewDelta(dst []byte, d *sim.ViewDelta) []byte {
	dst = ViewPacked(dst, &d.View)
	e := enc(dst[:len(dst)-1]) // reopen the object
	e.raw(`,"Changed":`)
	ints(e, d.Changed)
	e.raw(`,"Keys":`)
	ints(e, d.Keys)
	e.raw(`,"Full":`)
	e.bool(d.Full)
	e.raw("}")
	return []byte(*e)
}

func ints(e *encoder, l []int) {
	if l == nil {
		e.raw("null")
		return
	}
	list(e, l, func(x *int) { e.int(int64(*x)) })
}
