//go:build js && wasm

// Command wasm is the browser bridge of the klp playground: it exposes the
// scenario sessions of core/scenario to JavaScript as globalThis.klp. It
// holds no simulation logic; every function converts its arguments, calls
// the core and converts the result to plain data (or a JSON string).
//
// Go cannot throw into JavaScript (a FuncOf callback only returns a value),
// so a failing call returns a JavaScript Error object instead of a result,
// marked with klpError = true. web/lib/runtime.js replaces every function
// of globalThis.klp by a wrapper that throws that Error, so page code sees
// ordinary exceptions. Nothing a caller passes can make the Go program
// exit: every handler runs under recover, and results are converted to
// JavaScript values inside that recover (a value js.ValueOf rejects would
// otherwise panic in syscall/js's event loop and kill the program).
package main

import (
	"fmt"
	"runtime"

	"github.com/hack-pad/safejs"
)

// handler is one exported function: arguments in, plain data out.
type handler func(args []safejs.Value) (any, error)

// argError is a caller mistake (wrong type, unknown id); it becomes a
// TypeError in JavaScript, everything else an Error.
type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }

func argErrorf(format string, a ...any) error { return &argError{fmt.Sprintf(format, a...)} }

// funcs keeps every exported Func reachable; they live as long as the page.
var funcs []safejs.Func

func main() {
	api, err := safejs.ValueOf(map[string]any{})
	if err != nil {
		panic(err) // no Object constructor: nothing can work
	}
	for name, h := range handlers() {
		fn, err := safejs.FuncOf(wrap(name, h))
		if err != nil {
			panic(err)
		}
		funcs = append(funcs, fn)
		if err := api.Set(name, fn); err != nil {
			panic(err)
		}
	}
	_ = api.Set("version", buildVersion())
	_ = api.Set("ready", true)
	g := safejs.Global()
	if err := g.Set("klp", api); err != nil {
		panic(err)
	}
	// Listeners may already wait for the event (web/lib/runtime.js
	// registers before go.run, which runs main up to select{}).
	if ev, err := g.Get("Event"); err == nil && ev.Type() == safejs.TypeFunction {
		if e, err := ev.New("klp-ready"); err == nil {
			if fn, err := g.Get("dispatchEvent"); err == nil && fn.Type() == safejs.TypeFunction {
				_, _ = g.Call("dispatchEvent", e)
			}
		}
	}
	select {} // keep the runtime alive for callbacks
}

// wrap turns a handler into a FuncOf body that never panics and never
// returns something js.ValueOf would reject.
func wrap(name string, h handler) func(safejs.Value, []safejs.Value) any {
	return func(_ safejs.Value, args []safejs.Value) (ret any) {
		defer func() {
			if r := recover(); r != nil {
				ret = jsError(fmt.Errorf("klp.%s: internal error: %v", name, r), "Error")
			}
		}()
		v, err := h(args)
		if err != nil {
			// A caller mistake names the function; a scenario error is
			// shown to users as it is ("scenario:3:7: ...").
			if _, ok := err.(*argError); ok {
				return jsError(fmt.Errorf("klp.%s: %w", name, err), "TypeError")
			}
			return jsError(err, "Error")
		}
		if jv, ok := v.(safejs.Value); ok {
			return jv // made in JavaScript already (parseJSON)
		}
		// Convert here, under recover, so a bad value is our error and
		// not a panic in the event handler.
		jv, err := safejs.ValueOf(v)
		if err != nil {
			return jsError(fmt.Errorf("klp.%s: bad result: %v", name, err), "Error")
		}
		return jv
	}
}

// jsError builds (but does not throw) a JavaScript error of the given
// constructor, marked so the JS wrapper can tell it from a result.
func jsError(err error, ctor string) any {
	msg := err.Error()
	c, e := safejs.Global().Get(ctor)
	if e != nil || c.Type() != safejs.TypeFunction {
		return map[string]any{"klpError": true, "message": msg}
	}
	v, e := c.New(msg)
	if e != nil {
		return map[string]any{"klpError": true, "message": msg}
	}
	_ = v.Set("klpError", true)
	return v
}

func buildVersion() string {
	return runtime.Version()
}
