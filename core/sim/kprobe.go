package sim

import "fmt"

// Kprobes on ftrace (CONFIG_KPROBES_ON_FTRACE), as test-kprobe.sh uses
// them: a module's init registers a kprobe on a function. With a post
// handler the kprobe's ftrace_ops has FTRACE_OPS_FL_IPMODIFY, and ftrace
// allows one IPMODIFY ops per function, so a kprobe with a post handler
// and a livepatch of the same function exclude each other (-EBUSY), in
// whichever order they come.

// KprobeSpec is the kprobe a module registers in its init and
// unregisters in its exit (test_klp_kprobe).
type KprobeSpec struct {
	Func string
	// Post says whether it has a post handler: "Y", "N", or "param.NAME"
	// for a bool module parameter (test_klp_kprobe's has_post_handler).
	Post string
}

type kprobe struct {
	mod      string
	code     CodeID
	ipmodify bool
}

type kprobeState struct {
	probes   []kprobe
	disarmed bool // /sys/kernel/debug/kprobes/enabled is 0
}

// kprobeIPModify tells whether an armed kprobe with a post handler owns
// the function's IPMODIFY slot.
func (s *Sim) kprobeIPModify(code CodeID) bool {
	if s.kp.disarmed {
		return false
	}
	for _, p := range s.kp.probes {
		if p.code == code && p.ipmodify {
			return true
		}
	}
	return false
}

// registerKprobe is register_kprobe from module mi's init.
func (s *Sim) registerKprobe(mi int) error {
	m := &s.mods[mi]
	spec := m.Spec.Kprobe
	if spec == nil {
		return nil
	}
	_, id, err := s.ResolveFunc(spec.Func)
	if err != nil {
		return ENOENT // kprobe_lookup_name finds no such symbol
	}
	post := spec.Post == "Y"
	if name, ok := cutParam(spec.Post); ok {
		v, _ := s.param(m.Spec.Name, name)
		post = v == "Y"
	}
	if post && !s.kp.disarmed {
		if _, patched := s.opsByCode[id]; patched {
			// register_ftrace_function(&kprobe_ipmodify_ops) fails: a
			// livepatch already modifies this function's IP.
			return EBUSY
		}
	}
	s.kp.probes = append(s.kp.probes, kprobe{mod: m.Spec.Name, code: id, ipmodify: post})
	s.eventf(Event{Kind: EvFunc, Func: spec.Func}, "kprobe registered on %s (post handler: %v)", spec.Func, post)
	return nil
}

func cutParam(v string) (string, bool) {
	if len(v) > 6 && v[:6] == "param." {
		return v[6:], true
	}
	return "", false
}

// unregisterKprobes drops the kprobes a module registered.
func (s *Sim) unregisterKprobes(mod string) {
	out := s.kp.probes[:0]
	for _, p := range s.kp.probes {
		if p.mod != mod {
			out = append(out, p)
		}
	}
	s.kp.probes = out
}

// kprobeFile serves /sys/kernel/debug/kprobes/{enabled,list}.
func (s *Sim) kprobeFile(p string) *node {
	switch p {
	case "/sys/kernel/debug/kprobes/enabled":
		return &node{mode: "-rw-------", read: func() string { return intLine(b2i(!s.kp.disarmed)) }, write: func(d string) error {
			b, err := s.kstrtobool(d)
			if err != nil {
				return EINVAL
			}
			s.kp.disarmed = !b
			return nil
		}}
	case "/sys/kernel/debug/kprobes/list":
		return &node{mode: "-r--r--r--", read: func() string {
			var out string
			for _, p := range s.kp.probes {
				c := s.code[p.code]
				out += fmt.Sprintf("%016x  k  %s+0x0    [FTRACE]\n", c.Addr, c.Name)
			}
			return out
		}}
	}
	return nil
}
