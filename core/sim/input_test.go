package sim

import (
	"reflect"
	"testing"
)

// TestPendingDrivesLikeAdvance: a driver that always Steps the first of
// Pending() gets the same log and events as time simply passing, in every
// profile family (kicked idle loops from 5.16, housekeeping wake-ups and
// manual-only signals before).
func TestPendingDrivesLikeAdvance(t *testing.T) {
	for _, prof := range []string{"6.16", "5.15", "5.1", "4.12"} {
		t.Run(prof, func(t *testing.T) {
			build := func() *Sim {
				s := newSim(t, prof, withCPUs(3))
				addMods(t, s, livepatchSample())
				sleeper(t, s, 200, "cat", UserTask, Interruptible, "cmdline_proc_show")
				spawn(t, s, TaskSpec{PID: 201, Comm: "yes", User: true, State: Running, CPU: 1})
				must(t, s.Insmod("livepatch_sample"))
				must(t, s.Wake(200))
				must(t, s.Return(200))
				must(t, s.Return(200))
				must(t, s.Sleep(200, false, false))
				return s
			}
			byTime := build()
			settle(t, byTime)
			byPending := build()
			for steps := 0; inTransition(byPending); steps++ {
				next := byPending.Pending()
				if len(next) == 0 || steps > 10000 {
					t.Fatalf("transition stuck after %d steps; pending %v", steps, next)
				}
				for i := 1; i < len(next); i++ {
					if next[i].At < next[i-1].At {
						t.Fatalf("Pending not in time order: %v", next)
					}
				}
				must(t, byPending.Step(next[0].Input))
			}
			if !reflect.DeepEqual(logTexts(byTime), logTexts(byPending)) {
				t.Fatalf("logs differ:\n%q\n%q", logTexts(byTime), logTexts(byPending))
			}
			if byTime.Now() != byPending.Now() {
				t.Fatalf("settled at %d by time, %d by Pending", byTime.Now(), byPending.Now())
			}
		})
	}
}

// TestIdleLoopInput: an idle nohz_full CPU that nothing wakes blocks the
// transition; an interrupt there (the IdleLoop input) lets its idle task
// pass its switch point.
func TestIdleLoopInput(t *testing.T) {
	s := newSim(t, "5.1", withCPUs(3), withNohz(2))
	addMods(t, s, livepatchSample())
	must(t, s.Insmod("livepatch_sample"))
	s.Advance(uint64(3 * s.HZ()))
	if !inTransition(s) || s.idle[2].PatchState == s.target {
		t.Fatalf("swapper/2 should still block the transition")
	}
	s.Ready()
	must(t, s.Step(IdleLoop{CPU: 2}))
	ev := eventsOf(s.Ready().Events, EvSwitch)
	if len(ev) != 1 || ev[0].Switch == nil || ev[0].Switch.Reason != ReasonIdle || ev[0].CPU != 2 {
		t.Fatalf("switch events %+v, want swapper/2's idle switch", ev)
	}
	settle(t, s)
	if err := s.Step(TransitionWork{}); err == nil {
		t.Fatal("TransitionWork with no work queued should fail")
	}
	if err := s.Step(IdleLoop{CPU: 7}); err == nil {
		t.Fatal("IdleLoop on a CPU that does not exist should fail")
	}
}
