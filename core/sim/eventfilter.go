package sim

import "slices"

// EventFilter picks events by their typed fields, for expectations, goals
// and `until`: what a lesson or a test checks is the event's content, not
// its wording. A zero field matches anything.
type EventFilter struct {
	Kind   EventKind
	Text   string       // contained in the text (see Event.Matches)
	PID    *int         // the event's task, or one of a switch's PIDs
	CPU    *int         // the event's CPU (an idle task's, for pid 0)
	Reason SwitchReason // a switch's reason
	To     *int         // a switch's new patch_state
	Patch  string       // the patch the event is about
	Wait   string       // "begin" or "end" of a wait
}

// Match reports whether e passes the filter.
func (f EventFilter) Match(e Event) bool {
	if e.Kind != f.Kind || (f.Text != "" && !e.Matches(f.Text)) {
		return false
	}
	if f.PID != nil && e.PID != *f.PID && (e.Switch == nil || !slices.Contains(e.Switch.PIDs, *f.PID)) {
		return false
	}
	if f.CPU != nil && e.CPU != *f.CPU {
		return false
	}
	if f.Reason != "" && (e.Switch == nil || e.Switch.Reason != f.Reason) {
		return false
	}
	if f.To != nil && (e.Switch == nil || e.Switch.To != *f.To) {
		return false
	}
	if f.Patch != "" && e.Patch != f.Patch {
		return false
	}
	if f.Wait != "" && (e.Wait == nil || e.Wait.End != (f.Wait == "end")) {
		return false
	}
	return true
}

// SwitchReasons lists the reasons a switch event can carry.
func SwitchReasons() []SwitchReason {
	return []SwitchReason{ReasonStackCheck, ReasonKernelExit, ReasonFakeSignal, ReasonIdle, ReasonForce, ReasonFork, ReasonComplete}
}
