package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// Typed module parameters beyond the inferred int and bool: charp
// (module_param(name, charp, …)) and arrays of int (module_param_array,
// test_klp_syscall's klp_pids=1,2,3), parsed as param_set_charp and
// param_array_set do.

// Param types a declaration may name (Param.Type).
var ParamTypes = []string{"int", "bool", "charp", "int[]"}

// typedParamValue parses v for a parameter with an explicit type and
// returns it as the parameter file reads back.
func (s *Sim) typedParamValue(p Param, v string) (string, bool) {
	switch p.Type {
	case "int":
		n, err := strconv.ParseInt(v, 0, 32)
		return strconv.FormatInt(n, 10), err == nil
	case "bool":
		b, err := s.kstrtobool(v)
		return map[bool]string{true: "Y", false: "N"}[b], err == nil
	case "charp":
		return v, true
	case "int[]":
		if v == "" {
			return "", true
		}
		var out []string
		for _, e := range strings.Split(v, ",") {
			n, err := strconv.ParseInt(e, 0, 32)
			if err != nil {
				return "", false
			}
			out = append(out, strconv.FormatInt(n, 10))
		}
		return strings.Join(out, ","), true
	}
	return "", false
}

// ParamInts returns a loaded module's int[] parameter as numbers.
func (s *Sim) ParamInts(mod, name string) []int {
	v, ok := s.param(mod, name)
	if !ok || v == "" {
		return nil
	}
	var out []int
	for _, e := range strings.Split(v, ",") {
		if n, err := strconv.Atoi(e); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// validParamType tells whether t is "" (inferred) or a known type.
func validParamType(t string) bool {
	if t == "" {
		return true
	}
	for _, x := range ParamTypes {
		if x == t {
			return true
		}
	}
	return false
}

// checkParams refuses a declaration whose parameter type is unknown or
// whose default does not parse as its type.
func (s *Sim) checkParams(spec ModuleSpec) error {
	for _, p := range spec.Params {
		if !validParamType(p.Type) {
			return fmt.Errorf("module %s: parameter %s has unknown type %q (want one of %s)", spec.Name, p.Name, p.Type, strings.Join(ParamTypes, ", "))
		}
		if p.Type != "" {
			if _, ok := s.typedParamValue(p, p.Default); !ok {
				return fmt.Errorf("module %s: default %q of parameter %s is not a %s", spec.Name, p.Default, p.Name, p.Type)
			}
		}
	}
	return nil
}
