package sim

import (
	"fmt"
	"runtime"
	"testing"
)

// Footprint, the explore mode's memory bound, is near what a clone
// really allocates: between 0.8 and 1.25 times the bytes
// CloneInto(nil) takes, for the property test's machines after random
// actions (forks, loads, transitions), history dropped as explore drops
// it.
func TestFootprintNearAClone(t *testing.T) {
	for _, prof := range []string{"4.12", "6.0", "6.16"} {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", prof, seed), func(t *testing.T) {
				w := newWorld(t, prof, seed%2 == 0)
				if seed%3 == 0 {
					w.withRoles(t)
				}
				ops := randomOps(seed*31337, 300)
				for i := 0; i+2 < len(ops); i += 3 {
					w.apply(ops[i], ops[i+1], ops[i+2])
				}
				w.s.ForgetHistory()
				const n = 64
				keep := make([]*Sim, 0, n)
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for i := 0; i < n; i++ {
					keep = append(keep, w.s.CloneInto(nil))
				}
				runtime.ReadMemStats(&after)
				got := float64(after.TotalAlloc-before.TotalAlloc) / n
				est := float64(w.s.Footprint())
				if est < got*0.8 || est > got*1.25 {
					t.Errorf("Footprint %.0f bytes, a clone allocates %.0f (%d tasks)", est, got, len(keep[0].tasks))
				}
			})
		}
	}
}
