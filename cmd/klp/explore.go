package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/klp-playground/klp/core/explore"
)

// runExplore is "klp explore FILE": every interleaving of the region,
// checked; the shortest counterexample of each broken property printed
// as a scenario that replays it. Exit 1 on a violation, 2 on a scenario
// error.
func runExplore(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("klp explore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	steps := fs.Int("steps", 0, "override the region's steps bound")
	seconds := fs.Float64("seconds", 0, "override the region's simulated-seconds bound")
	states := fs.Int("states", 0, "override the region's bound on visited states")
	memory := fs.Int("memory", 0, "override the region's bound on the MB of states held at once")
	noReduce := fs.Bool("no-reduce", false, "turn the partial-order reduction off")
	asJSON := fs.Bool("json", false, "print the result as one JSON object (for scripts and CI)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		usage(stderr)
		return 2
	}
	name, src, err := readScenario(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "klp: %v\n", err)
		return 2
	}
	p, err := explore.Prepare(name, string(src))
	if err != nil {
		fmt.Fprintf(stderr, "klp: %s\n", strings.ReplaceAll(termSafe(err.Error()), "\n", "\nklp: "))
		return 2
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(explore.SearchGCPercent)
	}
	start := time.Now()
	if *steps < 0 || *seconds < 0 || *states < 0 || *memory < 0 || *memory > 1<<20 {
		fmt.Fprintln(stderr, "klp explore: -steps, -seconds, -states and -memory take a positive number (0: the region's own)")
		return 2
	}
	o := explore.Options{Steps: *steps, Seconds: *seconds, MaxStates: *states, MaxMemory: *memory << 20, NoReduce: *noReduce}
	if isTerminal(stderr) && !*asJSON {
		o.ProgressEvery = 20000
		o.Progress = func(s explore.Stats) bool {
			el := time.Since(start).Seconds()
			fmt.Fprintf(stderr, "\r\x1b[Kexploring: depth %d, %d states, %d in the frontier, %.0f states/s", s.Depth, s.States, s.Frontier, float64(s.States)/max(el, 1e-9))
			return true
		}
		// a finding at once, above the progress line; the report at the end has it whole
		o.Found = func(v explore.Violation) {
			fmt.Fprintf(stderr, "\r\x1b[Kfound after %.2f s: %s broken (shortest counterexample: %d steps); the search goes on\n", time.Since(start).Seconds(), v.Property, len(v.Steps))
		}
	}
	r := p.Run(o)
	el := time.Since(start)
	if o.Progress != nil {
		fmt.Fprint(stderr, "\r\x1b[K")
	}
	if *asJSON {
		if err := reportJSON(stdout, r, el); err != nil {
			fmt.Fprintf(stderr, "klp: %v\n", err)
			return 2
		}
	} else {
		report(stdout, r, el)
	}
	if len(r.Violations) > 0 {
		return 1
	}
	return 0
}

func report(w io.Writer, r *explore.Result, el time.Duration) {
	red := "off"
	if r.Options.Reduce {
		red = "on"
	}
	fmt.Fprintf(w, "explored %d states, %d transitions, %d complete interleavings, depth %d, in %.3f s (%.0f states/s)\n",
		r.States, r.Transitions, r.Completed, r.Depth, el.Seconds(), float64(r.States)/max(el.Seconds(), 1e-9))
	bound := "none hit (every interleaving explored)"
	if r.Bound != "" {
		bound = r.Bound + " bound hit: the search is partial"
	}
	fmt.Fprintf(w, "bounds: steps=%d seconds=%g states=%d memory=%d; %s; reduction %s; visited set %d bytes (%.1f per state); states held at most %.1f MB\n",
		r.Options.Steps, r.Options.Seconds, r.Options.MaxStates, r.Options.MaxMemory>>20, bound, red, r.SetBytes, float64(r.SetBytes)/float64(max(r.States, 1)), float64(r.HeldBytes)/(1<<20))
	for _, v := range r.Violations {
		fmt.Fprintf(w, "\nVIOLATED %s: %s\nshortest counterexample (%d steps), a scenario that replays it:\n", v.Property, termSafe(v.Detail), len(v.Steps))
		for _, l := range strings.Split(strings.TrimRight(v.Scenario, "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", termSafe(l))
		}
	}
	if ok := r.Held(); len(ok) > 0 {
		fmt.Fprintf(w, "\nheld in every state explored: %s\n", strings.Join(ok, ", "))
	}
}

// jsonResult is klp explore -json's output: the text report's facts,
// under the names the page's bridge gives them (explore's JSON tags).
type jsonResult struct {
	explore.Stats
	Seconds    float64             `json:"seconds"`
	Bound      string              `json:"bound"` // "" when every interleaving was explored
	Bounds     jsonBounds          `json:"bounds"`
	Reduce     bool                `json:"reduce"`
	SetBytes   int                 `json:"setBytes"`
	HeldBytes  int                 `json:"heldBytes"`
	Held       []string            `json:"held"` // the properties no state broke
	Violations []explore.Violation `json:"violations"`
}

type jsonBounds struct {
	Steps    int     `json:"steps"`
	Seconds  float64 `json:"seconds"`
	States   int     `json:"states"`
	MemoryMB int     `json:"memoryMB"`
}

func reportJSON(w io.Writer, r *explore.Result, el time.Duration) error {
	out := jsonResult{
		Stats: r.Stats, Seconds: el.Seconds(), Bound: r.Bound, Reduce: r.Options.Reduce, SetBytes: r.SetBytes, HeldBytes: r.HeldBytes,
		Bounds:     jsonBounds{Steps: r.Options.Steps, Seconds: r.Options.Seconds, States: r.Options.MaxStates, MemoryMB: r.Options.MaxMemory >> 20},
		Held:       r.Held(),
		Violations: append([]explore.Violation{}, r.Violations...), // [] rather than null
	}
	for i := range out.Violations {
		if out.Violations[i].Steps == nil {
			out.Violations[i].Steps = []string{} // found at the region's start
		}
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(out)
}

// isTerminal reports whether w is a character device (a terminal), where
// a progress line that rewrites itself makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
