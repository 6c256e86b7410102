package sim

import (
	"strconv"
	"strings"
)

// Re-pointing the scheduler hook (v6.4+).
//
// klp_start_transition ends with klp_cond_resched_enable() and
// klp_try_complete_transition's cleanup starts with
// klp_cond_resched_disable(): a static call update of cond_resched
// (PREEMPT_DYNAMIC kernels, sched_dynamic_klp_enable) or a static key
// (klp_sched_try_switch_key; the only form from v6.16, when the hook
// moved to __schedule). Either way the kernel rewrites its own text with
// text_poke_bp, which synchronises every other online CPU three times
// (text_poke_sync: on_each_cpu(do_sync_core), waiting for each CPU).
//
// That synchronisation is a switch point for two kinds of task already
// marked pending a moment before:
//   - an idle CPU polls its thread flags (mwait, haltpoll), so the
//     cross-call sets need_resched instead of sending an interrupt; do_idle
//     leaves its loop, goes through schedule_idle() and calls
//     klp_update_patch_state(current) at its switch point;
//   - a task running in user mode takes the IPI and returns to user mode
//     through exit_to_user_mode_loop, which handles TIF_PATCH_PENDING.
// A task running in the kernel returns from the IPI to the kernel and
// stays pending. So on a quiet v6.4+ system the first
// klp_try_complete_transition, still inside the write or insmod, finds
// everyone switched; before v6.4 the other CPUs' idle tasks are "running"
// and need wake_up_if_idle and a retry. The IPIs reach nohz_full CPUs too.

// Text-poke timing, in nanoseconds: one sync waits for the slowest CPU —
// an idle one leaving a deep C-state, a busy one taking an IPI.
const (
	pokeSyncBusyNs = 2_000  // IPI to a running CPU and back
	pokeSyncIdleNs = 20_000 // a polling idle CPU leaving its C-state
	pokeSyncs      = 3      // text_poke_bp: int3, tail, first byte
)

// hookTextPoke is klp_cond_resched_enable (on) or _disable (off).
func (s *Sim) hookTextPoke(on bool) {
	s.compactTasks() // s.task looks tasks up
	caller := s.callerCPU()
	what := "klp_cond_resched_enable: sched_dynamic_klp_enable re-points the cond_resched static call"
	if !on {
		what = "klp_cond_resched_disable: sched_dynamic_klp_disable points the cond_resched static call back"
	}
	if s.prof.ScheduleHook() {
		what = "static_branch_enable(&klp_sched_try_switch_key)"
		if !on {
			what = "static_branch_disable(&klp_sched_try_switch_key)"
		}
	}
	var cpus []string
	nohz := 0
	cost := int64(0)
	for c := range s.cpus {
		cpu := &s.cpus[c]
		if !cpu.Online || c == caller {
			continue
		}
		if !s.quiet {
			cpus = append(cpus, strconv.Itoa(c))
		}
		if cpu.NohzFull {
			nohz++
		}
		if cpu.Curr == 0 {
			cost = max(cost, pokeSyncIdleNs)
		} else {
			cost = max(cost, pokeSyncBusyNs)
		}
	}
	s.nohzTouched += nohz
	if !s.mute(EvSync) {
		s.eventf(Event{Kind: EvSync}, "%s: text_poke_bp syncs CPUs %s %d times (on_each_cpu; need_resched on a polling idle CPU, an IPI elsewhere); nohz_full CPUs disturbed: %d", what, strings.Join(cpus, ","), pokeSyncs, nohz)
	}
	s.lat += cost // the first sync: the idle loops and the IPIs run now
	if on {
		for c := range s.cpus {
			cpu := &s.cpus[c]
			if !cpu.Online || c == caller {
				continue
			}
			if cpu.Curr == 0 {
				s.updatePatchState(&s.idle[c], ReasonIdle, "idle loop: the text-poke sync set need_resched")
			} else if t := s.task(cpu.Curr); t != nil && !t.InKernel {
				s.updatePatchState(t, ReasonKernelExit, "return to user mode after the text-poke IPI")
			}
		}
	}
	s.lat += (pokeSyncs - 1) * cost
}
