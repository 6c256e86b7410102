package sim

import "testing"

// post_unpatch runs unless pre_patch failed: klp_pre_patch_callback sets
// post_unpatch_enabled = !ret, and ret is 0 when there is no pre_patch
// (lesson 14).
func TestPostUnpatchWithoutPrePatch(t *testing.T) {
	for _, prof := range []string{"4.15", "5.1", "6.16"} {
		t.Run(prof, func(t *testing.T) {
			s := newSim(t, prof)
			m := lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"))
			m.Patch.Objects[0].Callbacks = Callbacks{PostUnpatch: &Callback{Log: []CallbackLine{{Text: "post_unpatch_callback: {objstate}"}}}}
			addMods(t, s, m)
			must(t, s.Insmod("lp"))
			settle(t, s)
			must(t, s.WriteFile(lpPath("lp", "enabled"), "0\n"))
			settle(t, s)
			inOrder(t, logTexts(s),
				"livepatch: 'lp': completing unpatching transition",
				"lp: post_unpatch_callback: vmlinux",
				"livepatch: 'lp': unpatching complete")
		})
	}
}

// Before v5.16 klp_check_stack formatted "has an unreliable stack" and "is
// sleeping on function", while "is running" always came from
// klp_try_switch_task (README, 4.12 profile).
func TestPerTaskLineFunctions(t *testing.T) {
	for _, tc := range []struct {
		prof, stack, running string
	}{
		{"4.12", "klp_check_stack", "klp_try_switch_task"},
		{"5.15", "klp_check_stack", "klp_try_switch_task"},
		{"5.16", "klp_try_switch_task", "klp_try_switch_task"},
	} {
		t.Run(tc.prof, func(t *testing.T) {
			s := newSim(t, tc.prof, withCPUs(2))
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			sleeper(t, s, 700, "cat", UserTask, Interruptible, "cmdline_proc_show")
			must(t, s.Insmod("lp"))
			got := logTexts(s)
			for _, want := range []string{
				"livepatch: " + tc.stack + ": cat:700 is sleeping on function cmdline_proc_show",
				"livepatch: " + tc.running + ": swapper/1:0 is running",
			} {
				if count(got, want) == 0 {
					t.Errorf("missing %q in\n%q", want, got)
				}
			}
		})
	}
}
