package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// AddVmlinux declares more kernel functions, laid out after the existing
// ones (the scenario language declares vmlinux line by line).
func (s *Sim) AddVmlinux(fs ...FuncDecl) error {
	if err := s.checkFuncDecls("vmlinux", fs); err != nil {
		return fmt.Errorf("vmlinux: %v", err)
	}
	s.addFuncs("vmlinux", max(uint64(vmlinuxBase), s.syms.vmlinuxEnd), fs, nil)
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

// ModuleRefcnt reports a module's reference count (as
// /sys/module/<m>/refcnt would).
func (s *Sim) ModuleRefcnt(name string) int {
	if m := s.module(name); m != nil {
		return m.Refcnt
	}
	return 0
}

// insmodParams loads a module with parameters given as name=value, as
// insmod passes them. Unknown parameters are ignored with the kernel's
// warning; a value of the wrong type fails the load with EINVAL.
func (s *Sim) insmodParams(name string, args []string) error {
	m := s.module(name)
	if m == nil {
		return ENOENT
	}
	if m.State != ModUnloaded {
		return EEXIST
	}
	vals := make([]string, len(m.Spec.Params))
	for i, p := range m.Spec.Params {
		vals[i] = p.Default
	}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		i := paramIndex(m.Spec.Params, k)
		if i < 0 {
			s.printk(LevelWarn, "%s: unknown parameter '%s' ignored", name, k)
			continue
		}
		nv, ok := s.paramValue(m.Spec.Params[i], v)
		if !ok {
			s.printk(LevelErr, "%s: '%s' invalid for parameter '%s'", name, v, k)
			return EINVAL
		}
		vals[i] = nv
	}
	m.Params = vals
	return s.insmod(name)
}

func paramIndex(ps []Param, name string) int {
	for i, p := range ps {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func isBoolParam(p Param) bool { return p.Default == "Y" || p.Default == "N" }

// paramValue parses a value for p as param_set_int / param_set_bool do,
// and returns it as the parameter file reads back.
func (s *Sim) paramValue(p Param, v string) (string, bool) {
	v = strings.TrimSuffix(v, "\n")
	if p.Type != "" {
		return s.typedParamValue(p, v)
	}
	if isBoolParam(p) {
		b, err := s.kstrtobool(v)
		if err != nil {
			return "", false
		}
		return map[bool]string{true: "Y", false: "N"}[b], true
	}
	n, err := strconv.ParseInt(v, 0, 32)
	if err != nil {
		return "", false
	}
	return strconv.FormatInt(n, 10), true
}

// param reads a loaded module's parameter.
func (s *Sim) param(mod, name string) (string, bool) {
	m := s.module(mod)
	if m == nil || m.State == ModUnloaded {
		return "", false
	}
	i := paramIndex(m.Spec.Params, name)
	if i < 0 || i >= len(m.Params) {
		return "", false
	}
	return m.Params[i], true
}
