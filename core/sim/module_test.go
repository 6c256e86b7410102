package sim

import (
	"strings"
	"testing"
)

// TestDeleteModuleErrnos checks delete_module's errors in the kernel's
// order: a module others depend on, or one still referenced, fails with
// EWOULDBLOCK (EAGAIN); an unloaded one with ENOENT.
func TestDeleteModuleErrnos(t *testing.T) {
	lib := ModuleSpec{Name: "lib", Funcs: []FuncDecl{{Name: "lib_fn", Size: 0x40}}}
	user := ModuleSpec{Name: "user", Funcs: []FuncDecl{{Name: "user_fn", Size: 0x40}}, Uses: []string{"lib_fn"}}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, s *Sim)
		rmmod string
		want  Errno
	}{
		{"held by a dependent", func(t *testing.T, s *Sim) { must(t, s.Insmod("lib")); must(t, s.Insmod("user")) }, "lib", EAGAIN},
		{"dependent goes first", func(t *testing.T, s *Sim) { must(t, s.Insmod("lib")); must(t, s.Insmod("user")) }, "user", 0},
		{"freed after the dependent", func(t *testing.T, s *Sim) {
			must(t, s.Insmod("lib"))
			must(t, s.Insmod("user"))
			must(t, s.Rmmod("user"))
		}, "lib", 0},
		{"enabled livepatch holds itself", func(t *testing.T, s *Sim) {
			must(t, s.AddModule(lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"))))
			must(t, s.Insmod("lp"))
		}, "lp", EAGAIN},
		{"not loaded", func(t *testing.T, s *Sim) {}, "lib", ENOENT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, "6.16")
			addMods(t, s, lib, user)
			tc.setup(t, s)
			wantErrno(t, "rmmod "+tc.rmmod, s.Rmmod(tc.rmmod), tc.want)
		})
	}
}

// TestUnknownSymbol: a module loaded before the module whose function it
// uses fails with ENOENT and the kernel's warning, and holds nothing.
func TestUnknownSymbol(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, ModuleSpec{Name: "lib", Funcs: []FuncDecl{{Name: "lib_fn", Size: 0x40}}},
		ModuleSpec{Name: "user", Uses: []string{"lib_fn", "other_fn"}})
	must(t, s.Insmod("lib"))
	wantErrno(t, "insmod user", s.Insmod("user"), ENOENT)
	inOrder(t, logTexts(s), "user: Unknown symbol other_fn (err -2)")
	if s.ModuleState("user") != ModUnloaded || s.ModuleRefcnt("lib") != 0 {
		t.Fatalf("failed load left state %v, lib refcnt %d", s.ModuleState("user"), s.ModuleRefcnt("lib"))
	}
}

// TestStackDeeperThanMaxEntries: a stack deeper than MAX_STACK_ENTRIES
// cannot be saved whole, so the reliable walk fails; one frame less is
// checked as usual.
func TestStackDeeperThanMaxEntries(t *testing.T) {
	for _, depth := range []int{maxStackEntries, maxStackEntries + 1} {
		s := newSim(t, "6.16")
		addMods(t, s, livepatchSample())
		names := []string{"do_syscall_64"}
		for len(names) < depth-1 {
			names = append(names, "vfs_read")
		}
		names = append(names, "schedule")
		spawn(t, s, TaskSpec{PID: 300, Comm: "deep", State: Interruptible, Stack: frames(names...)})
		must(t, s.Insmod("livepatch_sample"))
		line := "livepatch: klp_try_switch_task: deep:300 has an unreliable stack"
		got := task(t, s, 300).PatchState
		if depth > maxStackEntries {
			if got != Unpatched || !strings.Contains(strings.Join(logTexts(s), "\n"), line) {
				t.Fatalf("depth %d: patch_state %d, want the unreliable-stack line and no switch", depth, got)
			}
		} else if got != Patched && inTransition(s) {
			// (a completed transition put every task back to -1)
			t.Fatalf("depth %d: patch_state %d, want a switch", depth, got)
		}
	}
}
