package sim

import (
	"testing"
)

func sampleSim(t testing.TB, prof string) *Sim {
	p, err := ParseProfile(prof)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Profile: p, CPUs: 2, Vmlinux: []FuncDecl{{"do_syscall_64", 0x100}, {"vfs_read", 0x80}, {"seq_read", 0x90}, {"cmdline_proc_show", 0x30}, {"meminfo_proc_show", 0x200}, {"schedule", 0x40}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddModule(ModuleSpec{Name: "livepatch_sample", Patch: &PatchSpec{Objects: []ObjSpec{{Name: "vmlinux", Funcs: []FuncSpec{{Old: "cmdline_proc_show", New: "livepatch_cmdline_proc_show", NewSize: 0x30}}}}}}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSmoke(t *testing.T) {
	s := sampleSim(t, "6.16")
	if _, err := s.Spawn(TaskSpec{PID: 42, Comm: "cat", State: Interruptible, Stack: []FrameSpec{{Func: "do_syscall_64"}, {Func: "seq_read"}, {Func: "cmdline_proc_show"}, {Func: "schedule"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Insmod("livepatch_sample"); err != nil {
		t.Fatal(err)
	}
	s.AdvanceSeconds(20)
	for _, l := range s.Log() {
		t.Log(l.Dmesg())
	}
	for _, e := range s.Events() {
		t.Log(e.Kind, e.Text)
	}
	if name, _ := s.InTransition(); name != "" {
		t.Fatalf("still in transition")
	}
}
