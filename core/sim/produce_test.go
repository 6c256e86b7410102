package sim

import (
	"errors"
	"testing"
)

// A clone's symbols and produced files are its own: a module loaded in the
// clone (with an alias) and a file declared there do not show in the
// original, and unloading in the original does not drop the clone's.
func TestAliasesAndFilesCloneIndependently(t *testing.T) {
	s := newSim(t, "6.16")
	if err := s.AddModule(ModuleSpec{Name: "m", Funcs: []FuncDecl{{Name: "f", Size: 0x40}, {Name: "g", AliasOf: "f"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddProducedFile(ProducedFile{Path: "/proc/m_file", Func: "m:g", Text: "m says hi"}); err != nil {
		t.Fatal(err)
	}
	c := s.Clone()
	if err := c.Insmod("m"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddProducedFile(ProducedFile{Path: "/proc/cmdline", Func: "cmdline_proc_show", Text: "boot"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sim      *Sim
		name     string
		fn, path string
		wantFunc bool
		want     string // file text, "" when absent
	}{
		{c, "clone", "m:g", "/proc/m_file", true, "m says hi\n"},
		{s, "original", "m:g", "/proc/m_file", false, ""},
		{c, "clone", "cmdline_proc_show", "/proc/cmdline", true, "boot\n"},
		{s, "original", "cmdline_proc_show", "/proc/cmdline", true, ""},
	}
	for _, tc := range tests {
		_, id, err := tc.sim.ResolveFunc(tc.fn)
		if (err == nil) != tc.wantFunc {
			t.Errorf("%s: ResolveFunc(%s) = %v, want found=%v", tc.name, tc.fn, err, tc.wantFunc)
		}
		if err == nil && tc.fn == "m:g" {
			if _, f, _ := tc.sim.ResolveFunc("m:f"); f != id {
				t.Errorf("%s: alias g resolves to code %d, f to %d: want one function", tc.name, id, f)
			}
		}
		got, _ := tc.sim.ReadFile(tc.path)
		if got != tc.want {
			t.Errorf("%s: %s reads %q, want %q", tc.name, tc.path, got, tc.want)
		}
	}
	if err := c.Rmmod("m"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ResolveFunc("m:g"); err == nil {
		t.Errorf("the alias outlived its module's unload")
	}
}

// ReadAs runs the file's function as the task: during a transition an
// unswitched task reads the original, and its kernel exit switches it.
func TestReadAsFollowsPatchState(t *testing.T) {
	// v6.1: from v6.4 the hook's text-poke IPI would switch cat, running
	// in user mode, before it reads
	s := newSim(t, "6.1")
	if err := s.AddProducedFile(ProducedFile{Path: "/proc/cmdline", Func: "cmdline_proc_show", Text: "boot"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Spawn(TaskSpec{PID: 7, Comm: "cat", User: true, State: Running, CPU: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Spawn(TaskSpec{PID: 8, Comm: "blocker", State: Uninterruptible, Stack: []FrameSpec{{Func: "cmdline_proc_show"}, {Func: "schedule"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddModule(ModuleSpec{Name: "lp", Patch: &PatchSpec{Objects: []ObjSpec{{Name: "vmlinux", Funcs: []FuncSpec{{Old: "cmdline_proc_show", New: "lp_show", NewSize: 0x30, Prints: "{mod}: patched"}}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Insmod("lp"); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"boot\n", "lp: patched\n"} {
		got, err := s.ReadAs(7, "/proc/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("read %d: %q, want %q", i+1, got, want)
		}
	}
	if got, _ := s.ReadFile("/proc/cmdline"); got != "lp: patched\n" {
		t.Errorf("a read in the target state gives %q", got)
	}
	var fe *FSError
	if err := s.WriteFile("/proc/cmdline", "x\n"); !errors.As(err, &fe) || fe.Err != EACCES {
		t.Errorf("write to a produced file: %v, want EACCES", err)
	}
}
