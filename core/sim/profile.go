package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// Profile selects the kernel version whose livepatch behaviour the simulator
// reproduces (reference: shared/reference/history.md). Features are derived
// from the version number, so any version between the presets works too.
type Profile struct {
	Major, Minor int
	// RFCSyncRCU is the never-merged 2021 RFC "livepatch: Remove
	// klp_synchronize_transition()": synchronize_rcu() instead of running
	// an empty work item on every CPU. A what-if, never a default.
	RFCSyncRCU bool
	// CondReschedV1 is the cond_resched series as first posted (Feb 2023,
	// "livepatch,sched: Add livepatch task switching to cond_resched()"
	// v1) on 6.3: the scheduler hook, with klp_reverse_transition still
	// flipping the target before it clears the pending flags. Review
	// found the race that order leaves with the hook; v2 reordered the
	// reversal. A what-if, never a default.
	CondReschedV1 bool
}

// Presets are the named profiles the UI offers, oldest first.
func Presets() []string {
	return []string{"4.12", "4.15", "4.16", "5.1", "6.4", "6.10", "6.16", "rfc-sync-rcu", "cond-resched-v1"}
}

// DefaultProfile is the newest behaviour the reference describes.
const DefaultProfile = "6.16"

// ParseProfile accepts "6.16", "v5.1", "4.15.0", "rfc-sync-rcu" or
// "cond-resched-v1".
func ParseProfile(s string) (Profile, error) {
	if s == "rfc-sync-rcu" || s == "rfc" {
		return Profile{Major: 6, Minor: 16, RFCSyncRCU: true}, nil
	}
	if s == "cond-resched-v1" {
		return Profile{Major: 6, Minor: 3, CondReschedV1: true}, nil
	}
	t := strings.TrimPrefix(s, "v")
	parts := strings.Split(t, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Profile{}, fmt.Errorf("unknown kernel profile %q (want a version such as 6.16, or one of %s)", s, strings.Join(Presets(), ", "))
	}
	maj, err1 := strconv.Atoi(parts[0])
	min, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || maj < 0 || min < 0 {
		return Profile{}, fmt.Errorf("unknown kernel profile %q (want a version such as 6.16)", s)
	}
	p := Profile{Major: maj, Minor: min}
	if !p.at(4, 12) {
		return Profile{}, fmt.Errorf("kernel profile %q predates the per-task consistency model (v4.12); the simulator starts at 4.12", s)
	}
	if maj > 7 || (maj == 7 && min > 99) {
		return Profile{}, fmt.Errorf("kernel profile %q is newer than anything the simulator knows", s)
	}
	return p, nil
}

// String gives the profile name as ParseProfile accepts it.
func (p Profile) String() string {
	if p.RFCSyncRCU {
		return "rfc-sync-rcu"
	}
	if p.CondReschedV1 {
		return "cond-resched-v1"
	}
	return fmt.Sprintf("%d.%d", p.Major, p.Minor)
}

func (p Profile) at(maj, min int) bool {
	return p.Major > maj || (p.Major == maj && p.Minor >= min)
}

// Feature switches, one per behaviour change in history.md.

// Callbacks: (un)patch callbacks and the transition notices (v4.15).
func (p Profile) Callbacks() bool { return p.at(4, 15) }

// SignalAttr: the manual `signal` sysfs attribute (v4.16 to v5.0; its ABI
// entry says 4.15.0, the version the patch claimed when posted, but the code
// shipped in v4.16).
func (p Profile) SignalAttr() bool { return p.at(4, 16) && !p.at(5, 1) }

// ForceAttr: the `force` sysfs attribute and klp_force_transition (v4.16).
func (p Profile) ForceAttr() bool { return p.at(4, 16) }

// SwitchBeforeSignal: the kernel exit calls klp_update_patch_state before
// do_signal (v4.16); earlier it came after it, so a task that stops on a
// signal switches only when it continues.
func (p Profile) SwitchBeforeSignal() bool { return p.at(4, 16) }

// KstrtoboolTF: kstrtobool accepts t/T and f/F (v5.19); EnableDisable adds
// e/E and d/D (v6.16).
func (p Profile) KstrtoboolTF() bool { return p.at(5, 19) }

// KstrtoboolED: kstrtobool accepts e/E (true) and d/D (false) (v6.16).
func (p Profile) KstrtoboolED() bool { return p.at(6, 16) }

// AutoSignals: fake signals every SIGNALS_TIMEOUT retries (v5.1).
func (p Profile) AutoSignals() bool { return p.at(5, 1) }

// Registration: patches are registered, can be re-enabled and are never
// freed by a disable; stacking rules apply (before v5.1).
func (p Profile) Registration() bool { return !p.at(5, 1) }

// Immediate: klp_patch.immediate and klp_func.immediate, removed in v4.16
// ("livepatch: Remove immediate feature", d0807da78e11).
func (p Profile) Immediate() bool { return !p.at(4, 16) }

// taintFlags is TAINT_FLAGS_COUNT: LIVEPATCH (15) was the last flag until
// AUX and RANDSTRUCT (4.15), TEST (6.0), FWCTL (6.15).
func (p Profile) taintFlags() int {
	switch {
	case p.at(6, 15):
		return 20
	case p.at(6, 0):
		return 19
	case p.at(4, 15):
		return 18
	}
	return 16
}

// AtomicReplace: replace patches and nop functions (v5.1).
func (p Profile) AtomicReplace() bool { return p.at(5, 1) }

// EnabledBeforeFirstTry: patch->enabled is set before the first completion
// attempt (v5.1); earlier it was set after it.
func (p Profile) EnabledBeforeFirstTry() bool { return p.at(5, 1) }

// UnsupportedArchWarns: enabling on an arch without reliable stacks only
// warns (v5.2); earlier it was refused.
func (p Profile) UnsupportedArchWarns() bool { return p.at(5, 2) }

// NoConsistencyErrno is what enabling a patch returns on an architecture
// without reliable stacks before v5.2 refused it: -EOPNOTSUPP from v5.1
// (klp_enable_patch), -ENOSYS before (__klp_enable_patch).
func (p Profile) NoConsistencyErrno() Errno {
	if p.at(5, 1) {
		return EOPNOTSUPP
	}
	return ENOSYS
}

// NohzFullNoTick: a nohz_full CPU running one task gets no tick at all
// (v4.17 moved the residual 1 Hz tick to the housekeeping CPUs).
func (p Profile) NohzFullNoTick() bool { return p.at(4, 17) }

// States: klp_state and the compatibility check (v5.5).
func (p Profile) States() bool { return p.at(5, 5) }

// TaskCallFunc: v5.16 switched to task_call_func, kicks idle CPUs with
// wake_up_if_idle and prints every per-task line as klp_try_switch_task.
func (p Profile) TaskCallFunc() bool { return p.at(5, 16) }

// CopyProcessSyncsFlag: klp_copy_process sets the child's
// TIF_PATCH_PENDING from the parent's (747f7a290117, v6.1); before, the
// flag was the copy dup_task_struct made earlier in fork.
func (p Profile) CopyProcessSyncsFlag() bool { return p.at(6, 1) }

// PatchedAttr: <object>/patched (v6.1).
func (p Profile) PatchedAttr() bool { return p.at(6, 1) }

// CondReschedHook: cond_resched() tries to switch the caller (v6.4 to
// v6.15, and the series' first version).
func (p Profile) CondReschedHook() bool {
	return (p.at(6, 4) && !p.at(6, 16)) || p.CondReschedV1
}

// ScheduleHook: __schedule() tries to switch a task entering a freezable
// sleep (v6.16).
func (p Profile) ScheduleHook() bool { return p.at(6, 16) }

// ReverseClearsFirst: reversal clears pending flags before flipping the
// target (v6.4); earlier kernels flipped first.
func (p Profile) ReverseClearsFirst() bool { return p.at(6, 4) }

// TransitionNames: KLP_TRANSITION_* (v6.10) instead of KLP_UNDEFINED/...
func (p Profile) TransitionNames() bool { return p.at(6, 10) }

// ReplaceAttr: the read-only `replace` attribute (v6.11).
func (p Profile) ReplaceAttr() bool { return p.at(6, 11) }

// StackOrderAttr: the read-only `stack_order` attribute (v6.14).
func (p Profile) StackOrderAttr() bool { return p.at(6, 14) }

// StateName gives the kernel's constant for a patch_state value.
func (p Profile) StateName(s int) string {
	if p.TransitionNames() {
		switch s {
		case Idle:
			return "KLP_TRANSITION_IDLE"
		case Unpatched:
			return "KLP_TRANSITION_UNPATCHED"
		case Patched:
			return "KLP_TRANSITION_PATCHED"
		}
	}
	switch s {
	case Idle:
		return "KLP_UNDEFINED"
	case Unpatched:
		return "KLP_UNPATCHED"
	case Patched:
		return "KLP_PATCHED"
	}
	return strconv.Itoa(s)
}

// Differences lists, for the UI's profile switch, what this profile does
// differently from the newest one.
func (p Profile) Differences() []string {
	var d []string
	if !p.Callbacks() {
		d = append(d, "no (un)patch callbacks and no initializing/completing lines (v4.15); the start line reads 'patching...'")
	}
	if p.SignalAttr() {
		d = append(d, "fake signals only by hand: echo 1 > /sys/kernel/livepatch/<patch>/signal")
	}
	if p.Immediate() {
		d = append(d, "immediate patches and functions skip the consistency model (removed in v4.16); without reliable stacks only an immediate patch loads")
	}
	if !p.AutoSignals() && !p.SignalAttr() {
		d = append(d, "no fake signals and no force attribute (v4.16)")
	}
	if p.Registration() {
		d = append(d, "patches stay registered after disable and can be re-enabled; only the topmost enabled patch may be disabled")
		d = append(d, "no atomic replace; forcing pins every patch module for the rest of the boot")
	}
	if !p.States() {
		d = append(d, "no system states (klp_state, v5.5)")
	}
	if !p.TaskCallFunc() {
		d = append(d, "unreliable-stack and sleeping-on-function lines come from klp_check_stack; idle CPUs are not kicked (wake_up_if_idle, v5.16)")
	}
	if !p.PatchedAttr() {
		d = append(d, "no <object>/patched attribute (v6.1)")
	}
	if !p.CondReschedHook() && !p.ScheduleHook() {
		d = append(d, "no scheduler hook: CPU-bound kthreads block a transition (v6.4)")
	}
	if p.CondReschedHook() && !p.CondReschedV1 {
		d = append(d, "cond_resched() tries to switch the caller (v6.4 to v6.15)")
	}
	if p.CondReschedV1 {
		d = append(d, "what-if: cond_resched() tries to switch the caller, as the series' first version did on 6.3 (Feb 2023, never merged in this form)")
	}
	if !p.ReverseClearsFirst() {
		d = append(d, "reversal flips the target before it clears the pending flags (changed in v6.4, with the scheduler hook)")
	}
	if !p.TransitionNames() {
		d = append(d, "state names KLP_UNDEFINED/KLP_UNPATCHED/KLP_PATCHED (renamed in v6.10)")
	}
	if !p.ReplaceAttr() {
		d = append(d, "no replace attribute (v6.11)")
	}
	if !p.StackOrderAttr() {
		d = append(d, "no stack_order attribute (v6.14)")
	}
	if p.RFCSyncRCU {
		d = append(d, "what-if: klp_synchronize_transition() replaced by synchronize_rcu() (RFC, never merged)")
	}
	return d
}
