package scenario

import (
	"github.com/klp-playground/klp/core/sim"
)

// configVerbs shape the machine; they must come before the first statement
// that builds it.
var configVerbs = []Verb{
	{Name: "kernel", Min: 1, Usage: "kernel 6.16", Run: (*Session).kernel, Complete: args(nil, cProfiles),
		Doc: "kernel profile: a version (4.12 … 6.16) or a what-if, `rfc-sync-rcu` or `cond-resched-v1`. Must come before anything else that builds the machine. Default 6.16."},
	{Name: "cpus", Min: 1, Usage: "cpus 4 [nohz_full=2,3] [offline=3]", Run: (*Session).cpus, Complete: args(words("nohz_full=", "offline="), cNone),
		Doc: "possible CPUs; default 4"},
	{Name: "hz", Min: 1, Usage: "hz 250", Run: (*Session).hz, Complete: args(nil, words("100", "250", "300", "1000")),
		Doc: "CONFIG_HZ (100, 250, 300, 1000); default 250"},
	{Name: "seed", Min: 1, Usage: "seed 42", Run: (*Session).seed,
		Doc: "seed for anything random (`spawn-random`)"},
	{Name: "arch", Min: 1, Usage: "arch unreliable-stacks", Run: (*Session).arch, Complete: args(nil, words("unreliable-stacks", "reliable-stacks")),
		Doc: "an architecture without reliable stack traces"},
	{Name: "userland", Min: 1, Usage: "userland [kmod|busybox] [procps|procps-3.3.15]", Run: (*Session).userland, Complete: args(words(userlandWords...)),
		Doc: "whose tools print the errors, one word for each tool. `insmod` and `rmmod`: kmod's (default: `insmod: ERROR: could not insert module …`, `rmmod: ERROR: Module … is in use`) or busybox's (`insmod: can't insert '…': …`, `rmmod: can't unload module '…': …`; busybox's rmmod does not read the reference count first, so a module in use fails in `delete_module()` with `EAGAIN`); `modprobe` speaks kmod either way. `sysctl`: procps-ng 3.3.16 or later (default: a failed write prints its error alone) or `procps-3.3.15`, which then printed the `key = value` it had failed to set, as the selftests of v5.1–v5.8 expect"},
}

func (s *Session) kernel(st Stmt, out []Out) ([]Out, error) {
	a := st.Args[0]
	p, err := sim.ParseProfile(a.Val)
	if err != nil {
		return nil, s.errf(a.Pos, "%v", err)
	}
	s.cfg.Profile, s.profSet = p, true
	return nil, nil
}

func (s *Session) hz(st Stmt, out []Out) ([]Out, error) {
	n, err := s.num(st.Args[0])
	if err != nil {
		return nil, err
	}
	s.cfg.HZ = int(n)
	return nil, nil
}

func (s *Session) seed(st Stmt, out []Out) ([]Out, error) {
	n, err := s.num(st.Args[0])
	if err != nil {
		return nil, err
	}
	s.cfg.Seed = n
	return nil, nil
}

func (s *Session) arch(st Stmt, out []Out) ([]Out, error) {
	a := st.Args[0]
	switch a.Val {
	case "unreliable-stacks":
		s.cfg.NoReliableStacks = true
	case "reliable-stacks":
		s.cfg.NoReliableStacks = false
	default:
		return nil, s.errf(a.Pos, "arch takes reliable-stacks or unreliable-stacks, not %q", a.Val)
	}
	return nil, nil
}

func (s *Session) cpus(st Stmt, out []Out) ([]Out, error) {
	a := st.Args
	n, err := s.num(a[0])
	if err != nil {
		return nil, err
	}
	s.cfg.CPUs = int(n)
	for _, x := range a[1:] {
		list, err := s.intList(x)
		if err != nil {
			return nil, err
		}
		switch x.Key {
		case "nohz_full":
			s.cfg.NohzFull = list
		case "offline":
			s.cfg.Offline = list
		default:
			return nil, s.unknownKey(x, "nohz_full", "offline")
		}
	}
	return nil, nil
}
