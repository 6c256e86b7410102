package scenario

import (
	"flag"
	"runtime"
	"testing"
	"time"
)

// fuzzBudget keeps one fuzz input small: the fuzzer should explore
// statements, not wait for long simulated times or big machines.
var fuzzBudget = Budget{Tasks: 2000, Frames: 20000, Funcs: 2000, Modules: 50, Steps: 400, StmtSeconds: 120, TotalSeconds: 600}

// Per input, beyond the budget: what a slow or hungry path would show.
const (
	fuzzInputTime  = 2 * time.Second
	fuzzInputBytes = 256 << 20
)

// withinLimits runs f and fails if it allocates more than fuzzInputBytes,
// or (only while fuzzing, where inputs are new and the machine is ours)
// takes longer than fuzzInputTime: a scenario within its budget that is
// still slow or hungry is a finding.
func withinLimits(t *testing.T, what string, f func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > fuzzInputBytes {
		t.Fatalf("%s allocated %d MB for one input (limit %d MB)", what, n>>20, fuzzInputBytes>>20)
	}
	if fuzzing() && took > fuzzInputTime {
		t.Fatalf("%s took %v for one input (limit %v)", what, took, fuzzInputTime)
	}
}

func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}
