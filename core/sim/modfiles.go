package sim

import "slices"

// Files and behaviour of test modules that depend on their parameters.
// test_klp_syscall takes klp_pids=…; its replacement of the getpid syscall
// crosses each listed pid off when that task calls it, and
// /sys/kernel/test_klp_syscall/npids reads how many are left.

// PidCountSpec declares such a counter for a livepatch module.
type PidCountSpec struct {
	File  string // e.g. /sys/kernel/test_klp_syscall/npids
	Param string // an int[] parameter: the pids to wait for
}

type pidCount struct {
	mod  string
	left []int
}

// pidCountState is copied on every change: Clone shares it.
type pidCountState []pidCount

func (pc pidCountState) left(mod string) []int {
	for _, c := range pc {
		if c.mod == mod {
			return c.left
		}
	}
	return nil
}

// with returns a copy with mod's pids set to left.
func (pc pidCountState) with(mod string, left []int) pidCountState {
	out := make(pidCountState, 0, len(pc)+1)
	for _, c := range pc {
		if c.mod != mod {
			out = append(out, c)
		}
	}
	return append(out, pidCount{mod, left})
}

// callHooks runs what watches calls: the function tracer and the pid
// counters of loaded test modules.
func (s *Sim) callHooks(t *Task, orig, run CodeID) {
	s.traceCall(t, orig, run)
	mod := s.code[run].ForPatch
	if mod == "" {
		return
	}
	left := s.pidcnt.left(mod)
	if i := slices.Index(left, t.PID); i >= 0 {
		s.pidcnt = s.pidcnt.with(mod, slices.Delete(slices.Clone(left), i, i+1))
	}
}

// startPidCount fills a loading module's counter from its parameter (the
// module's init).
func (s *Sim) startPidCount(mi int) {
	m := &s.mods[mi]
	if m.Spec.Patch == nil || m.Spec.Patch.PidCount == nil {
		return
	}
	s.pidcnt = s.pidcnt.with(m.Spec.Name, s.ParamInts(m.Spec.Name, m.Spec.Patch.PidCount.Param))
}

// pidCountFile serves a loaded module's counter file; nil for other paths.
func (s *Sim) pidCountFile(p string) *node {
	for i := range s.mods {
		m := &s.mods[i]
		if m.State != ModLive || m.Spec.Patch == nil || m.Spec.Patch.PidCount == nil || m.Spec.Patch.PidCount.File != p {
			continue
		}
		name := m.Spec.Name
		return &node{mode: "-r--r--r--", read: func() string { return intLine(len(s.pidcnt.left(name))) }}
	}
	return nil
}
