package sim

import (
	"fmt"
	"testing"
)

// Benchmarks of the paths that used to grow quadratically with the size
// of a scenario (issue 14). Each runs one whole operation at the size the
// issue measured; `make bench` reports them.

func manyFuncs(n int, name func(int) string) []FuncDecl {
	fs := make([]FuncDecl, n)
	for i := range fs {
		fs[i] = FuncDecl{Name: name(i), Size: 0x40}
	}
	return fs
}

// A vmlinux of 100,000 functions (addCode scanned the table per function:
// 21 s), and one of 100,000 functions of one name (sympos counting).
func BenchmarkVmlinux100k(b *testing.B) {
	for _, c := range []struct {
		name string
		fn   func(int) string
	}{{"distinct", func(i int) string { return fmt.Sprintf("fn_%06d", i) }}, {"same-name", func(int) string { return "f" }}} {
		vm := manyFuncs(100000, c.fn)
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				s, err := New(Config{Vmlinux: vm})
				if err != nil {
					b.Fatal(err)
				}
				if got := s.code[len(s.code)-1]; c.name == "same-name" && got.Sympos != 100000 {
					b.Fatalf("sympos %d", got.Sympos)
				}
			}
		})
	}
}

// 100,000 tasks, then 5,000 exits spread over them (each rebuilt the pid
// index: 40 s), and 5,000 threads forked into one group in the middle.
func BenchmarkExitAndThreadFork(b *testing.B) {
	base, err := New(Config{Vmlinux: testVmlinux, CPUs: 2})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100000; i++ {
		if _, err := base.Spawn(TaskSpec{Comm: "t", State: Runnable, Stack: []FrameSpec{{Func: "do_syscall_64"}}}); err != nil {
			b.Fatal(err)
		}
	}
	pids := base.PIDs()
	b.Run("exit-5000", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s := base.Clone()
			b.StartTimer()
			for i := 0; i < 5000; i++ {
				if err := s.Exit(pids[i*20]); err != nil {
					b.Fatal(err)
				}
			}
			if n := len(s.PIDs()); n != 95000 {
				b.Fatalf("%d tasks left", n)
			}
		}
	})
	b.Run("thread-fork-5000", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s := base.Clone()
			leader := pids[50000]
			must(b, s.Run(leader, 0))
			b.StartTimer()
			for i := 0; i < 5000; i++ {
				if _, err := s.Fork(leader, 0, "", true); err != nil {
					b.Fatal(err)
				}
			}
			if i := s.findTask(leader); s.tasks[i+5000].TGID != leader || s.tasks[i+5001].TGID == leader {
				b.Fatal("threads not kept after their leader")
			}
		}
	})
}

// insmod of a livepatch of 10,000 functions over a vmlinux of 100,000,
// then of an atomic-replace patch of 10,000 others (which adds 10,000
// nops): each function's replacement and original were found by a scan.
func BenchmarkInsmodManyFuncs(b *testing.B) {
	vm := manyFuncs(100000, func(i int) string { return fmt.Sprintf("fn_%06d", i) })
	spec := func(name string, from int, replace bool) ModuleSpec {
		o := ObjSpec{Name: "vmlinux"}
		for i := from; i < from+10000; i++ {
			o.Funcs = append(o.Funcs, FuncSpec{Old: fmt.Sprintf("fn_%06d", i), New: fmt.Sprintf("%s_%06d", name, i), NewSize: 0x40})
		}
		return ModuleSpec{Name: name, Patch: &PatchSpec{Objects: []ObjSpec{o}, Replace: replace}}
	}
	a, r := spec("lpa", 0, false), spec("lpr", 10000, true)
	for b.Loop() {
		b.StopTimer()
		s, err := New(Config{Vmlinux: vm})
		if err != nil {
			b.Fatal(err)
		}
		addMods(b, s, a, r)
		b.StartTimer()
		must(b, s.Insmod("lpa"))
		s.AdvanceSeconds(2) // the idle tasks switch at the next retry
		must(b, s.Insmod("lpr"))
		if len(s.patches[1].Objs[0].Funcs) != 20000 {
			b.Fatalf("replace patch has %d functions, want 10,000 and 10,000 nops", len(s.patches[1].Objs[0].Funcs))
		}
	}
}

// A task calling 100,000 functions deep, each call checked by the
// consistency checker (which looked at every frame: 6.8 s), with a
// livepatch loaded.
func BenchmarkDeepStackCalls(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s, err := New(Config{Vmlinux: testVmlinux, CPUs: 2})
		if err != nil {
			b.Fatal(err)
		}
		addMods(b, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
		must(b, s.Insmod("lp"))
		pid, err := s.Spawn(TaskSpec{Comm: "deep", Kind: Kthread, State: Running, CPU: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := 0; i < 100000; i++ {
			must(b, s.Call(pid, "vfs_read", 0))
		}
		must(b, s.Call(pid, "cmdline_proc_show", 0))
		if tk, _ := s.Task(pid); len(tk.Stack) != 100001 {
			b.Fatalf("stack depth %d", len(tk.Stack))
		}
	}
}
