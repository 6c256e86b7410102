package explore

import (
	"os"
	"runtime/debug"
	"testing"
)

// BenchmarkExplore is the README's figure: states per second, bytes per
// visited state, and the reduction's effect, on testdata/bench.klp (4
// tasks, 2 patches, a fork and a reversal).
func BenchmarkExplore(b *testing.B) {
	src, err := os.ReadFile("testdata/bench.klp")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		o    Options
		gc   int // GOGC during the run; 0: the default
	}{{"reduce", Options{}, 0}, {"no-reduce", Options{NoReduce: true}, 0}, {"reduce-gc400", Options{}, SearchGCPercent}} {
		b.Run(c.name, func(b *testing.B) {
			if c.gc != 0 {
				// klp explore's setting
				defer debug.SetGCPercent(debug.SetGCPercent(c.gc))
			}
			p, err := Prepare("bench.klp", string(src))
			if err != nil {
				b.Fatal(err)
			}
			var r *Result
			b.ResetTimer()
			cpu := cpuSeconds()
			for i := 0; i < b.N; i++ {
				r = p.Run(c.o)
			}
			b.ReportMetric(float64(r.States)*float64(b.N)/b.Elapsed().Seconds(), "states/s")
			if cpu := cpuSeconds() - cpu; cpu > 0 {
				// CPU time includes the GC's background workers.
				b.ReportMetric(float64(r.States)*float64(b.N)/cpu, "states/cpu-s")
				// TLC's "states generated": every transition's target,
				// visited before or not.
				b.ReportMetric(float64(r.Transitions)*float64(b.N)/cpu, "generated/cpu-s")
			}
			b.ReportMetric(float64(r.SetBytes)/float64(r.States), "B/state")
			b.ReportMetric(float64(r.States), "states")
			b.ReportMetric(float64(r.Transitions), "transitions")
		})
	}
}
