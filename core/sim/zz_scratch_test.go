package sim

import "testing"

func dump(t *testing.T, s *Sim) {
	for _, l := range s.Log() {
		t.Logf("%-6s %s", l.Level, l.Dmesg())
	}
	for _, e := range s.Events() {
		t.Logf("ev %d %s %s", e.Time, e.Kind, e.Text)
	}
}

func TestScratchCancel(t *testing.T) {
	for _, prof := range []string{"4.12", "4.15", "6.16"} {
		s := newSim(t, prof)
		m := lp("lp", obj("vmlinux", "lp", "cmdline_proc_show"), obj("tmod", "lp", "tmod_fn"))
		if prof != "4.12" {
			m.Patch.Objects[0].Callbacks = selftestCallbacks(0)
			m.Patch.Objects[1].Callbacks = selftestCallbacks(ENODEV)
		}
		addMods(t, s, targetMod("tmod", "tmod_fn"), m)
		must(t, s.Insmod("tmod"))
		if prof == "4.12" {
			must(t, s.WriteFile("/proc/sys/kernel/ftrace_enabled", "0\n"))
		}
		err := s.Insmod("lp")
		t.Log(prof, err)
		dump(t, s)
	}
}
