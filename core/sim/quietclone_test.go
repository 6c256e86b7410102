package sim

import (
	"fmt"
	"testing"
)

// TestQuietAndClonesBehaveAlike runs the random actions of the property
// test three ways: on a machine that keeps its records, on a quiet one
// (SetQuiet, as explore searches), and on one cloned before every action
// as explore clones a state for each choice: a sibling clone, made in the
// memory of an earlier one (CloneInto), takes another random action, and
// then either the machine or the clone goes on with the run. The three
// must agree after every action: the same outcome, the same fingerprint,
// the same counts of alarms, WARNINGs and hazards. The quiet machine
// skips building what it drops, and clones share or reuse memory;
// neither may change what the machine does.
func TestQuietAndClonesBehaveAlike(t *testing.T) {
	steps := *propSteps
	for _, prof := range propWorlds {
		for seed := uint64(1); seed <= uint64(*propSeeds); seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", prof, seed), func(t *testing.T) {
				force := seed%2 == 0
				ops := randomOps(seed*7919+uint64(len(prof)), steps)
				other := randomOps(seed*104729+uint64(len(prof)), steps)
				loud := newWorld(t, prof, force)
				quiet := newWorld(t, prof, force)
				cloned := newWorld(t, prof, force)
				if seed%3 == 0 {
					for _, w := range []*world{loud, quiet, cloned} {
						w.withRoles(t)
					}
				}
				quiet.s.SetQuiet(true)
				var dead *Sim
				for i := 0; i+2 < len(ops); i += 3 {
					sib := *cloned
					sib.s = cloned.s.CloneInto(dead)
					if i/3%2 == 1 {
						sib.s, cloned.s = cloned.s, sib.s // the clone goes on
					}
					sib.apply(other[i], other[i+1], other[i+2])
					dead = sib.s
					a := loud.apply(ops[i], ops[i+1], ops[i+2])
					b := quiet.apply(ops[i], ops[i+1], ops[i+2])
					c2 := cloned.apply(ops[i], ops[i+1], ops[i+2])
					if a != b || a != c2 {
						t.Fatalf("action %d: %q loud, %q quiet, %q in a clone", i/3, a, b, c2)
					}
					fl, fq, fc := loud.s.Fingerprint(), quiet.s.Fingerprint(), cloned.s.Fingerprint()
					if fl != fq || fl != fc {
						t.Fatalf("action %d (%s): fingerprints %x loud, %x quiet, %x in a clone", i/3, a, fq, fl, fc)
					}
					for _, m := range []*Sim{quiet.s, cloned.s} {
						if m.Alarms() != loud.s.Alarms() || m.Warnings() != loud.s.Warnings() || m.Hazards() != loud.s.Hazards() {
							t.Fatalf("action %d (%s): alarms/warnings/hazards %d/%d/%d, loud %d/%d/%d", i/3, a,
								m.Alarms(), m.Warnings(), m.Hazards(), loud.s.Alarms(), loud.s.Warnings(), loud.s.Hazards())
						}
					}
				}
				if len(quiet.s.Log()) != 0 {
					t.Fatalf("the quiet machine kept %d log records", len(quiet.s.Log()))
				}
			})
		}
	}
}
