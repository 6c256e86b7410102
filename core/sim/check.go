package sim

import "fmt"

// checkMix is the consistency checker: after t pushed a frame, does t now
// run one patch's version of a function while it also runs an older
// version of another function that the same patch replaces? Only force (or
// a hostile what-if) can make that happen.
func (s *Sim) checkMix(t *Task) {
	n := len(t.Stack)
	if n < 2 {
		return
	}
	newest := t.Stack[n-1]
	// A mix needs the new frame to run a patch's version, or to be a
	// version of a function some patch replaces; otherwise no pair can
	// involve it, and a deep stack of other calls costs nothing per call.
	if s.code[newest.Code].ForPatch == "" && !s.isPatchTarget(&s.code[newest.Called]) {
		return
	}
	// Check each patch whose code is on the stack, but only pairs that
	// involve the new frame, so one mix raises one alarm.
	for i := 0; i < n; i++ {
		fr := t.Stack[i]
		pi := s.versionPatch(fr)
		if pi < 0 {
			continue
		}
		for j := 0; j < n; j++ {
			if j == i || (i != n-1 && j != n-1) {
				continue
			}
			if s.olderThan(t.Stack[j], pi) {
				s.alarms++
				s.event(Event{Kind: EvAlarm, PID: t.PID, Patch: s.patches[pi].Mod, Func: s.code[newest.Called].Name,
					Text: fmt.Sprintf("%s:%d runs %s's %s and an older %s at the same time: one patch's old and new code are mixed",
						t.Comm, t.PID, s.patches[pi].Mod, s.code[fr.Called].Name, s.code[t.Stack[j].Called].Name)})
				return
			}
		}
	}
}

// versionPatch returns the patch whose replacement code a frame runs, or -1.
func (s *Sim) versionPatch(fr Frame) int {
	c := &s.code[fr.Code]
	if c.ForPatch == "" {
		return -1
	}
	best := -1
	for pi := range s.patches {
		if s.patches[pi].Mod != c.ForPatch {
			continue
		}
		for _, o := range s.patches[pi].Objs {
			for _, f := range o.Funcs {
				if f.NewCode == fr.Code && !f.Nop {
					best = pi
				}
			}
		}
	}
	return best
}

// olderThan: the frame runs a version, older than patch pi's, of a
// function pi replaces (the original, or an older patch's version).
func (s *Sim) olderThan(fr Frame, pi int) bool {
	called := &s.code[fr.Called]
	for _, o := range s.patches[pi].Objs {
		if o.Name != called.Obj {
			continue
		}
		for _, f := range o.Funcs {
			if f.Old != called.Name || (f.Sympos != 0 && f.Sympos != called.Sympos) {
				continue
			}
			if s.code[fr.Code].ForPatch == "" {
				// the original: old unless pi itself runs the
				// original here (a nop)
				return !f.Nop
			}
			q := s.versionPatch(fr)
			return q >= 0 && q < pi
		}
	}
	return false
}
