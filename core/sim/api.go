package sim

import "fmt"

// AddVmlinux declares more kernel functions, laid out after the existing
// ones (the scenario language declares vmlinux line by line).
func (s *Sim) AddVmlinux(fs ...FuncDecl) error {
	addr := uint64(vmlinuxBase)
	for _, c := range s.code {
		if c.Obj == "vmlinux" && c.Addr+align16(c.Size) > addr {
			addr = c.Addr + align16(c.Size)
		}
	}
	for _, f := range fs {
		if err := checkFuncDecl(f); err != nil {
			return fmt.Errorf("vmlinux: %v", err)
		}
	}
	for _, f := range fs {
		s.addCode(Code{Addr: addr, Size: f.Size, Name: f.Name, Obj: "vmlinux"})
		addr += align16(f.Size)
	}
	return nil
}

// ModuleNames lists the declared modules.
func (s *Sim) ModuleNames() []string {
	out := make([]string, len(s.mods))
	for i, m := range s.mods {
		out[i] = m.Spec.Name
	}
	return out
}

// IsLivepatchModule reports whether a declared module is a livepatch.
func (s *Sim) IsLivepatchModule(name string) bool {
	m := s.module(name)
	return m != nil && m.Spec.Patch != nil
}

// ModuleRefcnt reports a module's reference count (as
// /sys/module/<m>/refcnt would).
func (s *Sim) ModuleRefcnt(name string) int {
	if m := s.module(name); m != nil {
		return m.Refcnt
	}
	return 0
}

// SignalNow runs klp_send_signals as the automatic path would, for tests
// and lessons that want the effect without waiting 15 s. It returns EINVAL
// when no transition is in progress.
func (s *Sim) SignalNow() error {
	if s.transition < 0 {
		return EINVAL
	}
	s.sendSignals(false)
	return nil
}
