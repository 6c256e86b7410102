package sim

import "fmt"

// Fingerprint is a 64-bit hash of the machine's behaviour-relevant state,
// for the explore mode's set of visited states: two machines with the same
// fingerprint behave alike from here on (up to hash collisions).
//
// It covers: the clock (jiffies) and the delayed work's due jiffy, the
// transition (patch, target, retry count, scheduler hook, the per-tick
// work flag), the global flags (forced ever, taint, ftrace_enabled, force
// used, the rng position), whether an alarm, a hazard or a WARNING ever
// happened (and which WARN_ON_ONCE sites fired), every CPU (online, current
// task, kicked), every task and idle task (pid, tgid, parent, kind, state,
// CPU, patch_state, TIF_PATCH_PENDING, user/kernel mode, unreliable and
// norcu marks, fake signal, stop pending, ptrace attached, freezable, the sleep to resume,
// every frame of its stack and the interrupted calls), every module (state,
// refcount, parameters, holders), every patch (enabled, forced, listed,
// freed, and each object's and function's patched/transition flags), and
// every func_stack (the ftrace ops' stacks).
//
// It leaves out what only records the past: the kernel log, the events,
// the counts of alarms and warnings beyond "any", and why a task was last
// found blocked (Task.Blocked), which the next check recomputes.
func (s *Sim) Fingerprint() uint64 {
	s.compactTasks() // walks the tasks
	// Flags are packed into words, and the words go to two independent
	// lanes (a pair at a time), so that the hash's multiplications
	// overlap instead of waiting on each other: the search fingerprints
	// every state it reaches.
	var h fnv2
	h.init()
	h.pair(s.jiffies, uint64(s.workDue))
	h.pair(uint64(s.gp.Patch), s.gp.Start)
	h.add(uint64(len(s.gp.Holdouts)))
	for _, p := range s.gp.Holdouts {
		h.add(uint64(p))
	}
	h.pair(uint64(s.transition)<<32|uint64(uint32(s.target)), uint64(s.signalsCnt))
	h.pair(s.rng, uint64(s.nextPID))
	h.pair(uint64(s.writer)<<32|uint64(uint32(s.worker)), uint64(s.gp.By))
	h.add(bit(s.shellWait.Cmd != nil, 0) | bit(s.shellWait.Own, 1) | bit(s.shellWait.User, 2) |
		bit(s.schedHook, 3) | bit(s.forcedEver, 4) | bit(s.tainted, 5) | bit(s.ftraceOff, 6) |
		bit(s.usedForce, 7) | bit(s.tickWork, 8) | bit(s.alarms > 0, 9) | bit(s.hazards > 0, 10) |
		bit(s.ring.warnings > 0, 11) | uint64(len(s.warned))<<32)
	h.add(s.taint)
	h.str(s.shellWait.What)
	if s.shellWait.Cmd != nil {
		h.str(fmt.Sprintf("%#v", s.shellWait.Cmd))
	}
	for _, c := range s.cpus {
		h.add(uint64(c.Curr)<<2 | bit(c.Online, 0) | bit(c.Kicked, 1))
	}
	task := func(t *Task) {
		h.pair(uint64(t.PID)<<32|uint64(uint32(t.TGID)), uint64(t.Parent)<<32|uint64(uint32(t.CPU)))
		h.pair(uint64(t.PatchState+1)<<24|uint64(t.State)<<16|uint64(t.Kind)<<8|uint64(t.SleptIn),
			bit(t.PatchPending, 0)|bit(t.InKernel, 1)|bit(t.Unreliable, 2)|bit(t.NoRCU, 3)|
				bit(t.SigPending, 4)|bit(t.StopPending, 5)|bit(t.Freezable, 6)|bit(t.Ptraced, 7)|
				uint64(len(t.Stack))<<8|uint64(len(t.Interrupted))<<36)
		for _, f := range t.Stack {
			h.pair(uint64(uint32(f.Code))<<32|uint64(uint32(f.Called)), uint64(f.Off))
		}
		for _, c := range t.Interrupted {
			h.add(uint64(c))
		}
	}
	h.add(uint64(len(s.tasks)))
	for i := range s.tasks {
		task(&s.tasks[i])
	}
	for i := range s.idle {
		task(&s.idle[i])
	}
	h.add(uint64(len(s.mods)))
	for i := range s.mods {
		m := &s.mods[i]
		h.pair(uint64(m.State)<<32|uint64(uint32(m.Refcnt)), uint64(m.Patch)<<1|bit(m.KlpAlive, 0))
		h.add(uint64(len(m.Params))<<32 | uint64(len(m.Deps)))
		for _, p := range m.Params {
			h.str(p)
		}
		for _, d := range m.Deps {
			h.add(uint64(d))
		}
	}
	h.add(uint64(len(s.patches)))
	for i := range s.patches {
		p := &s.patches[i]
		h.add(bit(p.Enabled, 0) | bit(p.Forced, 1) | bit(p.Listed, 2) | bit(p.Freed, 3) | bit(p.Replace, 4) | bit(p.Immediate, 5) | uint64(len(p.Objs))<<8)
		for _, o := range p.Objs {
			h.add(bit(o.Patched, 0) | bit(o.Loaded, 1) | bit(o.PrePatchOK, 2) | uint64(len(o.Funcs))<<8)
			for _, f := range o.Funcs {
				h.pair(bit(f.Patched, 0)|bit(f.Transition, 1)|bit(f.Discarded, 2)|bit(f.Immediate, 3), uint64(uint32(f.OldCode))<<32|uint64(uint32(f.NewCode)))
			}
		}
	}
	h.add(uint64(len(s.forking)))
	for _, f := range s.forking {
		h.pair(uint64(f.Parent)<<32|uint64(uint32(f.Child)), bit(f.Pending, 0))
	}
	h.add(uint64(len(s.inHandler)))
	for _, c := range s.inHandler {
		h.pair(uint64(c.PID)<<32|uint64(uint32(c.Orig)), uint64(c.Top.P)<<40|uint64(c.Top.O)<<20|uint64(c.Top.F))
		h.add(bit(c.SawTransition, 0) | bit(c.Transition, 1) | bit(c.Hook, 2) | uint64(c.HookTarget)<<8)
	}
	h.add(uint64(len(s.list)))
	for _, l := range s.list {
		h.add(uint64(l))
	}
	h.add(uint64(len(s.ops)))
	for _, o := range s.ops {
		h.add(uint64(o.Orig)<<32 | uint64(len(o.Stack)))
		for _, r := range o.Stack {
			h.add(uint64(uint32(r.P))<<32 | uint64(uint32(r.O))<<16 | uint64(uint32(r.F)))
		}
	}
	h.add(uint64(len(s.code)))
	return h.sum()
}

// bit is flag b at bit i, without a branch.
func bit(b bool, i uint) uint64 {
	var x uint64
	if b {
		x = 1
	}
	return x << i
}

// fnv2 hashes 64-bit words in two lanes: each word is xored into its lane
// and the lane multiplied and folded (a bijection of the running value,
// so two sequences that differ in one word differ after it); sum mixes
// the lanes. add feeds the lanes in turn, pair one word to each. (It was
// FNV-1a a byte at a time, eight multiplications a word, then one lane:
// the search's hot spot.)
type fnv2 struct {
	a, b uint64
	odd  bool
}

func (h *fnv2) init() { h.a, h.b = 0xcbf29ce484222325, 0x84222325cbf29ce4 }

func fold(x uint64) uint64 {
	x *= 0x9e3779b97f4a7c15
	return x ^ x>>29
}

func (h *fnv2) pair(x, y uint64) {
	h.a = fold(h.a ^ x)
	h.b = fold(h.b ^ y)
}

func (h *fnv2) add(v uint64) {
	if h.odd {
		h.b = fold(h.b ^ v)
	} else {
		h.a = fold(h.a ^ v)
	}
	h.odd = !h.odd
}

func (h *fnv2) str(s string) {
	h.add(uint64(len(s)))
	for len(s) >= 16 {
		h.pair(le64(s), le64(s[8:]))
		s = s[16:]
	}
	if len(s) >= 8 {
		h.add(le64(s))
		s = s[8:]
	}
	var w uint64
	for i := 0; i < len(s); i++ {
		w |= uint64(s[i]) << (8 * i)
	}
	h.add(w)
}

func le64(s string) uint64 {
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// sum is splitmix64's finaliser over the lanes.
func (h *fnv2) sum() uint64 {
	z := h.a ^ (h.b<<32|h.b>>32)*0xd6e8feb86659fd93
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// CheckInvariants reports the first of the kernel's own invariants that
// the state breaks, or nil:
//   - outside a transition every task's patch_state is KLP_TRANSITION_IDLE
//     and no TIF_PATCH_PENDING is set;
//   - during one, every task's patch_state is 0 or 1, and it is pending
//     exactly when it differs from the target;
//   - a function's transition flag is set exactly for the functions of the
//     patch in transition (func_stack and klp_transition_patch agree);
//   - at most one patch is in transition, and it is on klp_patches.
func (s *Sim) CheckInvariants() error {
	s.compactTasks() // walks the tasks
	// an immediate patch's transition (v4.12-v4.15) never leaves IDLE:
	// klp_init_transition returns before it touches a task
	immediate := s.immediateTransition()
	check := func(t *Task) error {
		if s.transition < 0 || immediate {
			if t.PatchState != Idle || t.PatchPending {
				what := "with no transition in progress"
				if immediate {
					what = "while an immediate patch is in transition"
				}
				return fmt.Errorf("%s:%d has patch_state %d and pending=%v %s", t.Comm, t.PID, t.PatchState, b2i(t.PatchPending), what)
			}
			return nil
		}
		if t.PatchState != Unpatched && t.PatchState != Patched {
			return fmt.Errorf("%s:%d has patch_state %d during a transition", t.Comm, t.PID, t.PatchState)
		}
		if t.PatchPending != (t.PatchState != s.target) {
			return fmt.Errorf("%s:%d has patch_state %d and pending=%d, but the target is %d", t.Comm, t.PID, t.PatchState, b2i(t.PatchPending), s.target)
		}
		return nil
	}
	for i := range s.tasks {
		if s.tasks[i].State == Dead {
			continue
		}
		if err := check(&s.tasks[i]); err != nil {
			return err
		}
	}
	for i := range s.idle {
		if err := check(&s.idle[i]); err != nil {
			return err
		}
	}
	for pi := range s.patches {
		p := &s.patches[pi]
		for _, o := range p.Objs {
			for _, f := range o.Funcs {
				if f.Transition && pi != s.transition {
					return fmt.Errorf("%s's %s has its transition flag set, but %s is not in transition", p.Mod, f.Old, p.Mod)
				}
			}
		}
	}
	if s.transition >= 0 {
		listed := false
		for _, l := range s.list {
			listed = listed || l == s.transition
		}
		if !listed && s.patches[s.transition].Listed {
			return fmt.Errorf("patch %s in transition is not on klp_patches", s.patches[s.transition].Mod)
		}
	}
	return nil
}

// Hazards counts the RFC what-if's hazards so far.
func (s *Sim) Hazards() int { return s.hazards }

// SetQuiet drops, from now on, the kernel log records and the events but
// for alarms, WARNINGs and hazards (Seq numbers go on counting; the
// counts of alarms, warnings and hazards still count): the explore mode
// searches quietly when nothing in its region reads the log, and says
// what broke from the events it keeps. Nothing the machine does depends
// on its records.
func (s *Sim) SetQuiet(on bool) { s.quiet = on }

// ForgetHistory drops the kernel log records and events kept so far (Seq
// numbers go on counting). A driver that clones the machine many times,
// as the explore mode does, calls it once before, so that every clone
// copies only what happened since.
func (s *Sim) ForgetHistory() {
	s.ring.logBase += len(s.log)
	s.ring.logBytes = 0
	s.ring.evBase += len(s.events)
	s.log, s.events = nil, nil
	s.readyLog = max(s.readyLog, s.ring.logBase)
	s.readyEv = max(s.readyEv, s.ring.evBase)
}
