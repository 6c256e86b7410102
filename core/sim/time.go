package sim

import (
	"strconv"
)

// advance moves time forward by n jiffies, running whatever falls due: the
// delayed klp_transition_work, idle loops kicked by wake_up_if_idle, and
// user-mode tasks returning from the timer interrupt.
func (s *Sim) advance(n uint64) {
	end := s.jiffies + n
	for s.jiffies < end {
		next := end
		if s.workDue >= 0 && uint64(s.workDue) < next {
			next = uint64(s.workDue)
		}
		if s.tickWork && s.jiffies+1 < next {
			next = s.jiffies + 1
		}
		gp := s.gpDue()
		if gp >= 0 && uint64(gp) < next {
			next = uint64(gp)
		}
		s.pass(next - s.jiffies)
		if s.tickWork {
			s.tick()
		}
		if s.workDue >= 0 && uint64(s.workDue) == s.jiffies {
			s.workDue = -1
			s.transitionWork()
		}
		if gp >= 0 && uint64(gp) == s.jiffies && s.gpDue() == gp {
			s.endGP()
		}
	}
}

// pass moves the clock n jiffies on. What ran past the jiffy's start
// (s.lat: a text poke's syncs, the kworker's latency) is behind the new
// jiffy's start unless it ran longer than the jiffies passed.
func (s *Sim) pass(n uint64) {
	s.jiffies += n
	s.lat = max(0, s.lat-int64(n)*(1e9/int64(s.hz)))
}

// sleepFor is time passing while the running kernel code sleeps (the
// caller of synchronize_rcu, with klp_mutex held): the ticks run, nothing
// else does; work that fell due meanwhile runs as soon as time next
// passes (it would wait for klp_mutex).
func (s *Sim) sleepFor(n uint64) {
	for ; n > 0; n-- {
		s.pass(1)
		if s.tickWork {
			s.tick()
		}
	}
	if s.workDue >= 0 && uint64(s.workDue) < s.jiffies {
		s.workDue = int64(s.jiffies)
	}
}

// AdvanceSeconds moves time forward by whole or fractional seconds.
func (s *Sim) AdvanceSeconds(sec float64) {
	if sec <= 0 {
		return
	}
	s.Advance(uint64(sec*float64(s.hz) + 0.5))
}

// tick runs once per jiffy while there is per-tick work. It only looks at
// the CPUs, so it stays cheap with many tasks.
func (s *Sim) tick() {
	s.tickWork = false
	for c := range s.cpus {
		cpu := &s.cpus[c]
		if !cpu.Online {
			continue
		}
		if cpu.Curr == 0 {
			if cpu.Kicked {
				cpu.Kicked = false
				s.updatePatchState(&s.idle[c], ReasonIdle, "idle loop after wake_up_if_idle")
			}
			continue
		}
		// A nohz_full CPU running one task has no tick, so nothing
		// interrupts a user-mode task there.
		if cpu.NohzFull && s.prof.NohzFullNoTick() {
			continue
		}
		t := s.task(cpu.Curr)
		if t != nil && !t.InKernel && t.PatchPending {
			s.updatePatchState(t, ReasonKernelExit, "return to user mode after the timer interrupt")
		}
	}
}

// transitionWork is klp_transition_work_fn. It runs in a kworker that the
// timer softirq woke: a little after the tick, so its log lines carry
// that latency (drawn from the scenario's seed and the jiffy, so it takes
// nothing from the seed's stream that spawn-random and others draw from).
func (s *Sim) transitionWork() {
	if s.transition < 0 {
		return
	}
	// after the timer's tick, and after whatever already ran in this jiffy
	s.lat = max(s.lat, kworkerLatency(s.seed, s.jiffies))
	if s.worker != 0 {
		s.asWorker("the work's timer fired there; it runs klp_transition_work_fn", s.retry)
		return
	}
	s.retry()
}

// retry is the body of klp_transition_work_fn.
func (s *Sim) retry() {
	if !s.prof.TaskCallFunc() {
		// Before v5.16 nothing kicked idle CPUs; the simulator lets every
		// online, idle, non-nohz_full CPU wake up for housekeeping (timers,
		// kworkers) once a second, which passes its idle-loop switch point.
		for c := range s.cpus {
			cpu := &s.cpus[c]
			if cpu.Online && cpu.Curr == 0 && !cpu.NohzFull {
				s.updatePatchState(&s.idle[c], ReasonIdle, "idle loop after a housekeeping wakeup")
			}
		}
	}
	s.step("klp_transition_work_fn: retry %d", s.signalsCnt)
	cpu := s.callerCPU()
	s.tryCompleteTransition()
	// The kworker ran on an idle CPU; when it sleeps again, that CPU's
	// idle task comes back through schedule_idle() and passes its switch
	// point (on every version).
	if s.transition >= 0 && s.cpus[cpu].Online && s.cpus[cpu].Curr == 0 {
		s.updatePatchState(&s.idle[cpu], ReasonIdle, "idle loop after the kworker ran there")
	}
}

// InTransition reports the patch in transition ("" if none) and its target.
func (s *Sim) InTransition() (string, int) {
	if s.transition < 0 {
		return "", Idle
	}
	return s.patches[s.transition].Mod, s.target
}

// Blockers describes, as "comm:pid why", up to max of the tasks (idle tasks
// last) that have not reached the target state of the transition in
// progress, with why the last check failed, and how many there are in all.
func (s *Sim) Blockers(max int) ([]string, int) {
	s.compactTasks() // walks the tasks
	if s.transition < 0 || s.immediateTransition() {
		return nil, 0
	}
	var out []string
	n := 0
	for _, ts := range [][]Task{s.tasks, s.idle} {
		for i := range ts {
			t := &ts[i]
			if t.PatchState == s.target {
				continue
			}
			n++
			if len(out) < max {
				why := t.Blocked
				if why == "" {
					why = "has not been checked yet"
				}
				out = append(out, t.Comm+":"+strconv.Itoa(t.PID)+" "+why)
			}
		}
	}
	return out, n
}

// NextWork returns the jiffy of the next klp_transition_work, or -1.
func (s *Sim) NextWork() int64 { return s.workDue }

// RunUntilSettled advances until no transition is in progress, or until
// limit jiffies have passed. It reports whether the transition ended.
func (s *Sim) RunUntilSettled(limit uint64) bool {
	return s.advanceUntil(limit, func() bool { return s.transition < 0 })
}

// RunUntil advances time until an event that match accepts happens, or
// limit jiffies pass, and returns that event. It stops at the end of the
// jiffy in which the event happened.
func (s *Sim) RunUntil(limit uint64, match func(Event) bool) (Event, bool) {
	seen := s.ring.evBase + len(s.events) // a Seq: the ring may move
	var hit Event
	found := s.advanceUntil(limit, func() bool {
		for seen = max(seen, s.ring.evBase); seen < s.ring.evBase+len(s.events); seen++ {
			if e := s.events[seen-s.ring.evBase]; match(e) {
				hit = e
				return true
			}
		}
		return false
	})
	return hit, found
}

// advanceUntil moves time from one moment where something can happen to
// the next (each jiffy with per-tick work, else the transition work), so
// a quiet stretch costs nothing, until done holds or limit jiffies pass;
// it reports done.
func (s *Sim) advanceUntil(limit uint64, done func() bool) bool {
	end := s.jiffies + limit
	for !done() && s.jiffies < end {
		step := end - s.jiffies
		if s.tickWork {
			step = 1
		} else if s.workDue >= 0 && uint64(s.workDue) > s.jiffies {
			step = min(step, uint64(s.workDue)-s.jiffies)
		}
		if gp := s.gpDue(); gp >= 0 && uint64(gp) > s.jiffies {
			step = min(step, uint64(gp)-s.jiffies)
		}
		s.Advance(step)
	}
	return done()
}

// kworkerLatency is how long after the tick the kworker runs: 10–100 µs,
// what an idle machine's wake-up takes, a hash of seed and jiffy.
func kworkerLatency(seed, jiffies uint64) int64 {
	z := seed ^ jiffies*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return 10_000 + int64(z%90_001)
}
