package sim

import "testing"

func TestTypedParams(t *testing.T) {
	for _, tc := range []struct {
		typ, def, arg, want string
		err                 Errno
	}{
		{typ: "int[]", arg: "1,2,3", want: "1,2,3\n"},
		{typ: "int[]", arg: "0x10,-2", want: "16,-2\n"},
		{typ: "int[]", arg: "1,x", err: EINVAL},
		{typ: "int[]", arg: "1,,2", err: EINVAL},
		{typ: "charp", def: "a", arg: "hello", want: "hello\n"},
		{typ: "int", def: "3", arg: "-7", want: "-7\n"},
		{typ: "int", def: "3", arg: "x", err: EINVAL},
		{typ: "bool", def: "N", arg: "y", want: "Y\n"},
	} {
		t.Run(tc.typ+"="+tc.arg, func(t *testing.T) {
			s := newSim(t, "6.16")
			addMods(t, s, ModuleSpec{Name: "m", Params: []Param{{Name: "p", Default: tc.def, Type: tc.typ}}})
			err := s.InsmodParams("m", []string{"p=" + tc.arg})
			wantErrno(t, "insmod", err, tc.err)
			if tc.err != 0 {
				if !hasLineContaining(logTexts(s), "m: '"+tc.arg+"' invalid for parameter 'p'") {
					t.Errorf("no invalid-parameter line in %q", logTexts(s))
				}
				return
			}
			if got := read(t, s, "/sys/module/m/parameters/p"); got != tc.want {
				t.Errorf("reads %q, want %q", got, tc.want)
			}
		})
	}
	s := newSim(t, "6.16")
	if err := s.AddModule(ModuleSpec{Name: "m", Params: []Param{{Name: "p", Type: "float"}}}); err == nil {
		t.Error("an unknown parameter type must be refused")
	}
	if err := s.AddModule(ModuleSpec{Name: "m2", Params: []Param{{Name: "p", Default: "x", Type: "int"}}}); err == nil {
		t.Error("a default that is not of its type must be refused")
	}
}

// test_klp_syscall: npids counts the listed pids that have not yet run
// the replacement.
func TestPidCount(t *testing.T) {
	s := newSim(t, "6.16")
	m := lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"))
	m.Params = []Param{{Name: "klp_pids", Type: "int[]"}}
	m.Patch.PidCount = &PidCountSpec{File: "/sys/kernel/lp/npids", Param: "klp_pids"}
	addMods(t, s, m)
	a := spawn(t, s, TaskSpec{PID: 700, Comm: "a", State: Runnable, Stack: frames("do_syscall_64")})
	b := spawn(t, s, TaskSpec{PID: 701, Comm: "b", State: Runnable, Stack: frames("do_syscall_64")})
	must(t, s.InsmodParams("lp", []string{"klp_pids=700,701"}))
	settle(t, s)
	for _, step := range []struct {
		pid  int
		want string
	}{{0, "2\n"}, {a, "1\n"}, {a, "1\n"}, {b, "0\n"}} {
		if step.pid != 0 {
			must(t, s.Call(step.pid, "cmdline_proc_show", 0))
			must(t, s.Return(step.pid))
		}
		if got := read(t, s, "/sys/kernel/lp/npids"); got != step.want {
			t.Fatalf("after pid %d: npids %q, want %q", step.pid, got, step.want)
		}
	}
}
