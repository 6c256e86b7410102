// Package jsonenc writes the JSON the browser bridge (package wasm) hands
// to JavaScript: sim.View, events, kernel log lines and goal results.
//
// It exists to keep encoding/json (and the reflection it drives) out of
// klp.wasm: that package costs about 60 KB after brotli. The output is
// byte for byte what encoding/json's Marshal writes for the same values
// (field order, omitempty, null for nil slices and maps, sorted map keys,
// HTML-safe string escaping), which jsonenc_test.go checks on random
// values of every type, so the page and the share-link round trip see no
// difference. A field added to one of these types in core/ must be added
// here too; the tests fail until it is.
package jsonenc

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
)

// LogLine is sim.LogLine as the bridge sends it: the level by name and
// the dmesg form of the line.
type LogLine struct {
	Seq   int
	Time  int64
	Level string
	Text  string
	Dmesg string
}

// View appends the JSON of v to dst.
func View(dst []byte, v *sim.View) []byte {
	return view(dst, v, nil)
}

// ViewPacked appends the JSON of v with every task's Stack written as
// indexes into one table of distinct frames, a "Frames" array added as
// the view's last key. Tasks share most of their frames, so with
// thousands of tasks this is a tenth of the size, and much faster to
// encode, hand over and parse. Replacing each index i by Frames[i] (and
// dropping Frames) gives back exactly what View writes.
func ViewPacked(dst []byte, v *sim.View) []byte {
	p := &packer{index: map[sim.FrameView]int{}}
	dst = view(dst, v, p)
	e := enc(dst[:len(dst)-1]) // reopen the object
	e.raw(`,"Frames":[`)
	for i := range p.frames {
		if i > 0 {
			e.raw(",")
		}
		e.frame(&p.frames[i])
	}
	e.raw("]}")
	return []byte(*e)
}

// packer numbers distinct frames in the order they are first seen.
type packer struct {
	index  map[sim.FrameView]int
	frames []sim.FrameView
}

func (p *packer) ref(f *sim.FrameView) int {
	i, ok := p.index[*f]
	if !ok {
		i = len(p.frames)
		p.index[*f] = i
		p.frames = append(p.frames, *f)
	}
	return i
}

func view(dst []byte, v *sim.View, p *packer) []byte {
	e := enc(dst)
	e.raw(`{"Profile":`)
	e.str(v.Profile)
	e.raw(`,"StateNames":`)
	e.strMap(v.StateNames)
	e.raw(`,"Differences":`)
	e.strs(v.Differences)
	e.raw(`,"HZ":`)
	e.int(int64(v.HZ))
	e.raw(`,"Jiffies":`)
	e.uint(v.Jiffies)
	e.raw(`,"Time":`)
	e.int(v.Time)
	e.raw(`,"Seed":`)
	e.uint(v.Seed)
	e.raw(`,"CPUs":`)
	list(e, v.CPUs, e.cpu)
	e.raw(`,"Tasks":`)
	list(e, v.Tasks, func(t *sim.TaskView) { e.task(t, p) })
	e.raw(`,"Modules":`)
	list(e, v.Modules, e.module)
	e.raw(`,"Patches":`)
	list(e, v.Patches, e.patch)
	e.raw(`,"FuncStacks":`)
	list(e, v.FuncStacks, e.funcStack)
	if t := v.Transition; t != nil {
		e.raw(`,"Transition":{"Patch":`)
		e.str(t.Patch)
		e.raw(`,"Target":`)
		e.str(t.Target)
		e.raw(`,"Switched":`)
		e.int(int64(t.Switched))
		e.raw(`,"Total":`)
		e.int(int64(t.Total))
		e.raw(`,"Retries":`)
		e.int(int64(t.Retries))
		e.raw(`,"NextRetry":`)
		e.int(t.NextRetry)
		e.raw(`,"NextSignal":`)
		e.int(t.NextSignal)
		e.raw("}")
	}
	e.raw(`,"Warnings":`)
	e.int(int64(v.Warnings))
	e.raw(`,"Alarms":`)
	e.int(int64(v.Alarms))
	e.raw(`,"Hazards":`)
	e.int(int64(v.Hazards))
	e.raw(`,"Syncs":`)
	e.int(int64(v.Syncs))
	e.raw(`,"NohzTouched":`)
	e.int(int64(v.NohzTouched))
	e.raw(`,"Reliable":`)
	e.bool(v.Reliable)
	e.raw(`,"CondReschedHook":`)
	e.bool(v.CondReschedHook)
	e.raw("}")
	return []byte(*e)
}

// Events appends the JSON array of evs to dst.
func Events(dst []byte, evs []sim.Event) []byte {
	e := enc(dst)
	list(e, evs, func(ev *sim.Event) {
		e.raw(`{"Seq":`)
		e.int(int64(ev.Seq))
		e.raw(`,"Time":`)
		e.int(ev.Time)
		e.raw(`,"Kind":`)
		e.str(string(ev.Kind))
		if ev.PID != 0 {
			e.raw(`,"PID":`)
			e.int(int64(ev.PID))
		}
		if ev.CPU != 0 {
			e.raw(`,"CPU":`)
			e.int(int64(ev.CPU))
		}
		if ev.Patch != "" {
			e.raw(`,"Patch":`)
			e.str(ev.Patch)
		}
		if ev.Func != "" {
			e.raw(`,"Func":`)
			e.str(ev.Func)
		}
		e.raw(`,"Text":`)
		e.str(ev.Text)
		if sw := ev.Switch; sw != nil {
			e.raw(`,"Switch":{"From":`)
			e.int(int64(sw.From))
			e.raw(`,"To":`)
			e.int(int64(sw.To))
			e.raw(`,"Reason":`)
			e.str(string(sw.Reason))
			if len(sw.PIDs) > 0 {
				e.raw(`,"PIDs":[`)
				for i, p := range sw.PIDs {
					if i > 0 {
						e.raw(",")
					}
					e.int(int64(p))
				}
				e.raw("]")
			}
			if sw.Stale {
				e.raw(`,"Stale":true`)
			}
			e.raw("}")
		}
		if w := ev.Wait; w != nil {
			e.raw(`,"Wait":{"What":`)
			e.str(w.What)
			if w.End {
				e.raw(`,"End":true}`)
			} else {
				e.raw(`,"End":false}`)
			}
		}
		if r := ev.Ret; r != nil {
			e.raw(`,"Ret":{"What":`)
			e.str(r.What)
			if r.Errno != "" {
				e.raw(`,"Errno":`)
				e.str(r.Errno)
			}
			e.raw("}")
		}
		e.raw("}")
	})
	return []byte(*e)
}

// LogLines appends the JSON array of l to dst.
func LogLines(dst []byte, l []LogLine) []byte {
	e := enc(dst)
	list(e, l, func(x *LogLine) {
		e.raw(`{"Seq":`)
		e.int(int64(x.Seq))
		e.raw(`,"Time":`)
		e.int(x.Time)
		e.raw(`,"Level":`)
		e.str(x.Level)
		e.raw(`,"Text":`)
		e.str(x.Text)
		e.raw(`,"Dmesg":`)
		e.str(x.Dmesg)
		e.raw("}")
	})
	return []byte(*e)
}

// Goals appends {"failures": failures, "goals": goals} to dst, as
// encoding/json writes that map (keys sorted).
func Goals(dst []byte, goals []scenario.GoalResult, failures int) []byte {
	e := enc(dst)
	e.raw(`{"failures":`)
	e.int(int64(failures))
	e.raw(`,"goals":`)
	list(e, goals, func(g *scenario.GoalResult) {
		e.raw(`{"Goal":`)
		e.str(g.Goal)
		e.raw(`,"OK":`)
		e.bool(g.OK)
		e.raw(`,"Reason":`)
		e.str(g.Reason)
		e.raw("}")
	})
	e.raw("}")
	return []byte(*e)
}

// Result appends {"output": Output(out), "error": errText or null}.
func Result(dst []byte, out []scenario.Out, errText string, failed bool) []byte {
	dst = Output(append(dst, `{"output":`...), out)
	e := enc(dst)
	e.raw(`,"error":`)
	if failed {
		e.str(errText)
	} else {
		e.raw("null")
	}
	e.raw("}")
	return []byte(*e)
}

// Results appends {"results": [Result of each], "note": note}: what
// klp.execAll returns.
func Results(dst []byte, res []scenario.Result, note string) []byte {
	dst = append(dst, `{"results":[`...)
	for i, r := range res {
		if i > 0 {
			dst = append(dst, ',')
		}
		errText := ""
		if r.Err != nil {
			errText = r.Err.Error()
		}
		dst = Result(dst, r.Out, errText, r.Err != nil)
	}
	e := enc(dst)
	e.raw(`],"note":`)
	e.str(note)
	e.raw("}")
	return []byte(*e)
}

// Output appends the JSON of what a statement printed, as the bridge
// returns it: [{"kind", "text", "level"}].
func Output(dst []byte, out []scenario.Out) []byte {
	e := enc(dst)
	e.raw("[")
	for i := range out {
		o := &out[i]
		if i > 0 {
			e.raw(",")
		}
		e.raw(`{"kind":`)
		e.str(o.Kind)
		e.raw(`,"text":`)
		e.str(o.Text)
		e.raw(`,"level":`)
		e.str(o.Level)
		e.raw("}")
	}
	e.raw("]")
	return []byte(*e)
}

// --- the parts of a view ----------------------------------------------------

func (e *encoder) cpu(c *sim.CPUView) {
	e.raw(`{"ID":`)
	e.int(int64(c.ID))
	e.raw(`,"Online":`)
	e.bool(c.Online)
	e.raw(`,"NohzFull":`)
	e.bool(c.NohzFull)
	e.raw(`,"Curr":`)
	e.int(int64(c.Curr))
	e.raw(`,"CurrComm":`)
	e.str(c.CurrComm)
	e.raw("}")
}

func (e *encoder) task(t *sim.TaskView, p *packer) {
	e.raw(`{"PID":`)
	e.int(int64(t.PID))
	e.raw(`,"TGID":`)
	e.int(int64(t.TGID))
	e.raw(`,"Comm":`)
	e.str(t.Comm)
	e.raw(`,"Kind":`)
	e.str(t.Kind)
	e.raw(`,"State":`)
	e.str(t.State)
	e.raw(`,"Letter":`)
	e.str(t.Letter)
	e.raw(`,"CPU":`)
	e.int(int64(t.CPU))
	e.raw(`,"InKernel":`)
	e.bool(t.InKernel)
	e.raw(`,"Freezable":`)
	e.bool(t.Freezable)
	e.raw(`,"PatchState":`)
	e.int(int64(t.PatchState))
	e.raw(`,"Pending":`)
	e.bool(t.Pending)
	e.raw(`,"Signal":`)
	e.bool(t.Signal)
	e.raw(`,"Unreliable":`)
	e.bool(t.Unreliable)
	e.raw(`,"NoRCU":`)
	e.bool(t.NoRCU)
	if t.Blocked != "" {
		e.raw(`,"Blocked":`)
		e.str(t.Blocked)
	}
	if t.InHandler != "" {
		e.raw(`,"InHandler":`)
		e.str(t.InHandler)
	}
	if t.InHook != "" {
		e.raw(`,"InHook":`)
		e.str(t.InHook)
	}
	if t.Forking != 0 {
		e.raw(`,"Forking":`)
		e.int(int64(t.Forking))
	}
	if t.Waits != "" {
		e.raw(`,"Waits":`)
		e.str(t.Waits)
	}
	e.raw(`,"Stack":`)
	if p != nil {
		list(e, t.Stack, func(f *sim.FrameView) { e.int(int64(p.ref(f))) })
	} else {
		list(e, t.Stack, e.frame)
	}
	e.raw("}")
}

func (e *encoder) frame(f *sim.FrameView) {
	e.raw(`{"Text":`)
	e.str(f.Text)
	e.raw(`,"Func":`)
	e.str(f.Func)
	e.raw(`,"Called":`)
	e.str(f.Called)
	if f.Module != "" {
		e.raw(`,"Module":`)
		e.str(f.Module)
	}
	if f.Patch != "" {
		e.raw(`,"Patch":`)
		e.str(f.Patch)
	}
	e.raw(`,"Role":`)
	e.str(f.Role)
	e.raw("}")
}

func (e *encoder) module(m *sim.ModuleView) {
	e.raw(`{"Name":`)
	e.str(m.Name)
	e.raw(`,"State":`)
	e.str(m.State)
	e.raw(`,"Refcnt":`)
	e.int(int64(m.Refcnt))
	e.raw(`,"Livepatch":`)
	e.bool(m.Livepatch)
	e.raw("}")
}

func (e *encoder) patch(p *sim.PatchView) {
	e.raw(`{"Name":`)
	e.str(p.Name)
	e.raw(`,"Enabled":`)
	e.bool(p.Enabled)
	e.raw(`,"Transition":`)
	e.bool(p.Transition)
	e.raw(`,"Forced":`)
	e.bool(p.Forced)
	e.raw(`,"Replace":`)
	e.bool(p.Replace)
	e.raw(`,"StackOrder":`)
	e.int(int64(p.StackOrder))
	e.raw(`,"Objects":`)
	list(e, p.Objects, func(o *sim.ObjView) {
		e.raw(`{"Name":`)
		e.str(o.Name)
		e.raw(`,"Loaded":`)
		e.bool(o.Loaded)
		e.raw(`,"Patched":`)
		e.bool(o.Patched)
		e.raw(`,"Dynamic":`)
		e.bool(o.Dynamic)
		e.raw(`,"Funcs":`)
		list(e, o.Funcs, func(f *sim.FuncView) {
			e.raw(`{"Old":`)
			e.str(f.Old)
			e.raw(`,"Sympos":`)
			e.int(int64(f.Sympos))
			e.raw(`,"New":`)
			e.str(f.New)
			e.raw(`,"Nop":`)
			e.bool(f.Nop)
			e.raw(`,"Patched":`)
			e.bool(f.Patched)
			e.raw(`,"Transition":`)
			e.bool(f.Transition)
			e.raw("}")
		})
		e.raw("}")
	})
	e.raw("}")
}

func (e *encoder) funcStack(f *sim.FuncStackView) {
	e.raw(`{"Func":`)
	e.str(f.Func)
	e.raw(`,"Object":`)
	e.str(f.Object)
	e.raw(`,"Entries":`)
	list(e, f.Entries, func(x *sim.FuncStackEntry) {
		e.raw(`{"Patch":`)
		e.str(x.Patch)
		e.raw(`,"New":`)
		e.str(x.New)
		e.raw(`,"Nop":`)
		e.bool(x.Nop)
		e.raw(`,"Transition":`)
		e.bool(x.Transition)
		e.raw("}")
	})
	e.raw("}")
}

// --- scalars ----------------------------------------------------------------

// encoder is the output buffer; its methods append to it.
type encoder []byte

func enc(dst []byte) *encoder {
	e := encoder(dst)
	return &e
}

//go:noinline
func (e *encoder) raw(s string) { *e = append(*e, s...) }

//go:noinline
func (e *encoder) int(v int64) { *e = strconv.AppendInt(*e, v, 10) }

//go:noinline
func (e *encoder) uint(v uint64) { *e = strconv.AppendUint(*e, v, 10) }

//go:noinline
func (e *encoder) bool(v bool) {
	if v {
		e.raw("true")
	} else {
		e.raw("false")
	}
}

func (e *encoder) strs(l []string) {
	list(e, l, func(s *string) { e.str(*s) })
}

// list writes xs as a JSON array, item writing each element, or null for
// a nil slice, as encoding/json does.
func list[T any](e *encoder, xs []T, item func(*T)) {
	if xs == nil {
		e.raw("null")
		return
	}
	e.raw("[")
	for i := range xs {
		if i > 0 {
			e.raw(",")
		}
		item(&xs[i])
	}
	e.raw("]")
}

// strMap writes a map with its keys in order, as encoding/json does.
func (e *encoder) strMap(m map[string]string) {
	if m == nil {
		e.raw("null")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.raw("{")
	for i, k := range keys {
		if i > 0 {
			e.raw(",")
		}
		e.str(k)
		e.raw(":")
		e.str(m[k])
	}
	e.raw("}")
}

const hex = "0123456789abcdef"

// plain marks the ASCII bytes a string holds as they are.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// str writes s as a JSON string the way encoding/json does with HTML
// escaping on: <, > and & become \u003c, \u003e and \u0026, U+2028 and
// U+2029 are escaped, and invalid UTF-8 becomes \ufffd.
func (e *encoder) str(s string) {
	b := append(*e, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	*e = append(b, '"')
}
