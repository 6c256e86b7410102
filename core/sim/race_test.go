package sim

import (
	"fmt"
	"strings"
	"testing"
)

// TestPropertyForkInterleavings runs random actions with a fork split in
// two (ForkBegin … ForkFinish) and other actions in between. From v6.1
// every invariant holds after every step; v6.0 breaks one (a child with a
// stale TIF_PATCH_PENDING, and klp_complete_transition's warning) for
// some interleaving, as the kernel did before 747f7a290117.
func TestPropertyForkInterleavings(t *testing.T) {
	const seeds, steps = 60, 40
	for _, prof := range []string{"6.0", "6.1", "6.16"} {
		t.Run(prof, func(t *testing.T) {
			broken := 0
			for seed := uint64(1); seed <= seeds; seed++ {
				if err := forkInterleaving(t, prof, seed, steps); err != nil {
					if prof != "6.0" {
						t.Fatalf("seed %d: %v", seed, err)
					}
					broken++
				}
			}
			if prof == "6.0" && broken == 0 {
				t.Fatalf("no interleaving of %d found the pre-6.1 fork race", seeds)
			}
			t.Logf("%s: %d of %d interleavings broke an invariant", prof, broken, seeds)
		})
	}
}

// forkInterleaving: a patch is enabled, sh:102 (in the kernel, running)
// starts a fork, random actions follow, the fork finishes, and more random
// actions run; the first broken invariant is returned.
func forkInterleaving(t *testing.T, prof string, seed uint64, steps int) error {
	w := newWorld(t, prof, false)
	s := w.s
	must(t, s.Run(102, 0))
	if err := s.Insmod(w.patches[int(seed)%len(w.patches)]); err != nil {
		return nil // this seed's patch cannot load here; nothing to race
	}
	ops := randomOps(seed, 2*steps)
	child := 900
	if err := s.Step(ForkBegin{PID: 102, Child: child}); err != nil {
		return nil
	}
	for i := 0; i+2 < len(ops); i += 3 {
		if i/3 == steps {
			if err := s.Step(ForkFinish{Child: child}); err != nil {
				return nil // the parent exited: the fork failed
			}
		}
		desc := w.apply(ops[i], ops[i+1], ops[i+2])
		if err := w.check(); err != nil {
			return fmt.Errorf("after %q: %v", desc, err)
		}
	}
	if err := w.drain(); err != nil {
		return err
	}
	return nil
}

// TestForkingParentIsBusy: between the halves of a split fork the parent
// is inside copy_process, so what it would do itself is refused (naming
// the fork to finish) while others may act on it.
func TestForkingParentIsBusy(t *testing.T) {
	w := newWorld(t, "6.0", false)
	s := w.s
	must(t, s.Run(102, 0))
	must(t, s.Step(ForkBegin{PID: 102, Child: 900}))
	for _, in := range []Input{SyscallExit{PID: 102}, Call{PID: 102, Func: "schedule"}, Exit{PID: 102}, ForkBegin{PID: 102, Child: 901}} {
		err := s.Step(in)
		if err == nil || !strings.Contains(err.Error(), "inside copy_process (forking 900); fork-finish 900 first") {
			t.Errorf("%T while forking: %v", in, err)
		}
	}
	must(t, s.Step(ForkFinish{Child: 900}))
	must(t, s.Step(SyscallExit{PID: 102}))
}
