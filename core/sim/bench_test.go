package sim

import (
	"fmt"
	"runtime"
	"testing"
)

// The simulator's sweep (tryCompleteTransition) looks every frame up in a
// table built once per sweep. The kernel's klp_check_stack instead
// computes, for every task and every function of the patch, the address
// range to check and compares every return address against it. The
// benchmarks measure both on the same data; TestSweepMatchesKernelShaped
// checks they reach the same verdict for every task.

// attachStack sets a task's kernel stack directly, with the frames Spawn
// would build from the same names, so that building 1.6 million frames
// does not dominate the fixture.
func attachStack(s *Sim, pid int, st []Frame) {
	s.tasks[s.findTask(pid)].Stack = st
}

// rewind puts every task and idle task back where klp_start_transition
// leaves them: in the initial state, pending. The next sweep then has to
// check every task again.
func rewind(s *Sim) {
	for i := range s.tasks {
		s.tasks[i].PatchState = 1 - s.target
		s.tasks[i].PatchPending = true
		s.tasks[i].Blocked = ""
	}
	for i := range s.idle {
		s.idle[i].PatchState = 1 - s.target
		s.idle[i].PatchPending = true
		s.idle[i].Blocked = ""
	}
}

// frameOf builds the frame Spawn would build for FrameSpec{Func: name}.
type frameMaker struct {
	s    *Sim
	memo map[string]Frame
}

func (m *frameMaker) frame(tb testing.TB, name string) Frame {
	if f, ok := m.memo[name]; ok {
		return f
	}
	_, id, err := m.s.ResolveFunc(name)
	if err != nil {
		tb.Fatal(err)
	}
	f := Frame{Code: id, Off: m.s.frameOff(id, 0), Called: m.s.calledAs(id)}
	m.memo[name] = f
	return f
}

// sweepFixture builds a machine with nVmlinux kernel functions, one
// livepatch replacing nFuncs of them, and nTasks sleeping tasks with
// nFrames-deep stacks of unpatched functions, except that about
// hitPer10000/10000 of the tasks have one patched function on the stack.
// The patch is loaded (its first sweep runs inside insmod) and every task
// is then rewound to the state right after klp_start_transition.
func sweepFixture(tb testing.TB, nTasks, nFrames, nFuncs, nVmlinux int, hitPer10000 uint64, seed uint64) *Sim {
	tb.Helper()
	r := splitmix64(seed)
	vm := make([]FuncDecl, nVmlinux)
	for i := range vm {
		vm[i] = FuncDecl{Name: fmt.Sprintf("fn_%05d", i), Size: 0x40 + (r.next()%32)*0x10}
	}
	s, err := New(Config{Vmlinux: vm, CPUs: 4, Seed: seed})
	if err != nil {
		tb.Fatal(err)
	}
	perm := make([]int, nVmlinux)
	for i := range perm {
		perm[i] = i
	}
	for i := len(perm) - 1; i > 0; i-- {
		j := int(r.next() % uint64(i+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	patched, plain := perm[:nFuncs], perm[nFuncs:]
	o := ObjSpec{Name: "vmlinux"}
	for _, i := range patched {
		o.Funcs = append(o.Funcs, FuncSpec{Old: vm[i].Name, New: "klp_" + vm[i].Name, NewSize: 0x40})
	}
	must(tb, s.AddModule(ModuleSpec{Name: "lp_bench", Patch: &PatchSpec{Objects: []ObjSpec{o}}}))
	fm := &frameMaker{s: s, memo: map[string]Frame{}}
	for i := 0; i < nTasks; i++ {
		pid, err := s.Spawn(TaskSpec{Comm: "task", State: Interruptible})
		if err != nil {
			tb.Fatal(err)
		}
		st := make([]Frame, nFrames)
		for j := range st {
			st[j] = fm.frame(tb, vm[plain[r.next()%uint64(len(plain))]].Name)
		}
		if r.next()%10000 < hitPer10000 {
			st[r.next()%uint64(nFrames)] = fm.frame(tb, vm[patched[r.next()%uint64(len(patched))]].Name)
		}
		attachStack(s, pid, st)
	}
	must(tb, s.Insmod("lp_bench"))
	rewind(s)
	return s
}

// kernelShapedTry is klp_try_switch_task with klp_check_stack and
// klp_check_stack_func written the way transition.c has them.
func kernelShapedTry(s *Sim, t *Task, callerCPU int) (bool, string) {
	if t.PatchState == s.target {
		return true, ""
	}
	if !s.reliable {
		return false, "no reliable stack traces on this architecture"
	}
	if s.isRunningElsewhere(t, callerCPU) {
		return false, "is running"
	}
	if t.Unreliable {
		return false, "has an unreliable stack"
	}
	pi := int32(s.transition)
	p := &s.patches[pi]
	for oi := range p.Objs {
		if !p.Objs[oi].Patched {
			continue
		}
		for fi := range p.Objs[oi].Funcs {
			f := &p.Objs[oi].Funcs[fi]
			if f.Discarded {
				continue
			}
			addr, size := kernelShapedRange(s, FuncRef{pi, int32(oi), int32(fi)})
			for _, fr := range t.Stack {
				a := s.code[fr.Code].Addr + uint64(fr.Off)
				if a >= addr && a < addr+size {
					return false, "is sleeping on function " + f.Old
				}
			}
		}
	}
	t.PatchPending = false
	t.PatchState = s.target
	return true, ""
}

// kernelShapedRange is the range klp_check_stack_func computes: the new
// code when unpatching; when patching, the original if the function is
// alone on its func_stack (klp_find_ops), else the next entry's new code.
func kernelShapedRange(s *Sim, r FuncRef) (addr, size uint64) {
	f := s.fn(r)
	c := f.OldCode
	if s.target == Unpatched {
		c = f.NewCode
	} else if oi, ok := s.opsByCode[f.OldCode]; ok {
		st := s.ops[oi].Stack
		if len(st) > 1 {
			for i := 0; i+1 < len(st); i++ {
				if st[i] == r {
					c = s.fn(st[i+1]).NewCode
					break
				}
			}
		}
	}
	return s.code[c].Addr, s.code[c].Size
}

type verdict struct {
	ok  bool
	why string
}

// kernelShapedSweep runs kernelShapedTry over every thread and idle task
// the way klp_try_complete_transition walks them and returns the verdicts
// (threads, then idle tasks).
func kernelShapedSweep(s *Sim) []verdict {
	cpu := s.callerCPU()
	out := make([]verdict, 0, len(s.tasks)+len(s.idle))
	for i := range s.tasks {
		ok, why := kernelShapedTry(s, &s.tasks[i], cpu)
		out = append(out, verdict{ok, why})
	}
	for c := range s.idle {
		t := &s.idle[c]
		if !s.cpus[c].Online {
			t.PatchPending = false
			t.PatchState = s.target
			out = append(out, verdict{true, ""})
			continue
		}
		ok, why := kernelShapedTry(s, t, cpu)
		out = append(out, verdict{ok, why})
	}
	return out
}

// sweepVerdicts reads the verdicts the simulator's own sweep left behind.
func sweepVerdicts(s *Sim) []verdict {
	out := make([]verdict, 0, len(s.tasks)+len(s.idle))
	for _, ts := range [][]Task{s.tasks, s.idle} {
		for i := range ts {
			out = append(out, verdict{ts[i].PatchState == s.target, ts[i].Blocked})
		}
	}
	return out
}

func benchSizes(b *testing.B) (tasks, frames, funcs, vmlinux int) {
	if testing.Short() {
		return 10000, 16, 1000, 4096
	}
	return 100000, 16, 1000, 4096
}

func BenchmarkSweep(b *testing.B) {
	nt, nfr, nfn, nvm := benchSizes(b)
	base := sweepFixture(b, nt, nfr, nfn, nvm, 100, 42)
	blocked := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := base.Clone()
		// Collect the clone's garbage now, so the sweep is not charged
		// for a collection the setup caused.
		runtime.GC()
		b.StartTimer()
		s.tryCompleteTransition()
		b.StopTimer()
		blocked = s.countLeft()
		b.StartTimer()
	}
	b.ReportMetric(float64(blocked), "blocked-tasks")
}

func BenchmarkSweepKernelShaped(b *testing.B) {
	nt, nfr, nfn, nvm := benchSizes(b)
	base := sweepFixture(b, nt, nfr, nfn, nvm, 100, 42)
	blocked := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := base.Clone()
		runtime.GC()
		b.StartTimer()
		v := kernelShapedSweep(s)
		b.StopTimer()
		blocked = 0
		for _, x := range v {
			if !x.ok {
				blocked++
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(blocked), "blocked-tasks")
}

// TestSweepMatchesKernelShaped is the differential oracle: on random
// machines (stacked patches, an atomic replace with nops, both
// directions, running and unreliable tasks, an offline CPU, a patched
// module that is not loaded) the simulator's table-driven sweep and the
// kernel-shaped scan give every task the same verdict and reason.
func TestSweepMatchesKernelShaped(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		for _, unpatch := range []bool{false, true} {
			t.Run(fmt.Sprintf("seed=%d/unpatch=%v", seed, unpatch), func(t *testing.T) {
				base := differentialFixture(t, seed, unpatch)
				fast := base.Clone()
				fast.tryCompleteTransition()
				slow := base.Clone()
				got, want := sweepVerdicts(fast), kernelShapedSweep(slow)
				if len(got) != len(want) {
					t.Fatalf("%d verdicts vs %d", len(got), len(want))
				}
				blocked, reasons := 0, map[string]int{}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("task #%d: sweep says %+v, kernel-shaped scan says %+v", i, got[i], want[i])
					}
					if !got[i].ok {
						blocked++
						reasons[got[i].why]++
					}
				}
				// The data must exercise both outcomes and several reasons.
				if blocked == 0 || blocked == len(got) || len(reasons) < 3 {
					t.Fatalf("weak data: %d of %d blocked, reasons %v", blocked, len(got), reasons)
				}
			})
		}
	}
}

// differentialFixture: 600 vmlinux functions; p1 patches 80 of them and
// 4 of a module that is not loaded; p2 patches 80 (half of them also in
// p1); p3 is an atomic replace of 40 (so p1/p2 functions it lacks get
// nops). With unpatch, p3's patching completes first and then p3 is being
// disabled. 1,500 tasks with 8-frame stacks mixing originals, every
// patch's replacement code and unrelated functions, spawned through Spawn.
func differentialFixture(t *testing.T, seed uint64, unpatch bool) *Sim {
	r := splitmix64(seed * 7919)
	const nvm = 600
	vm := make([]FuncDecl, nvm)
	for i := range vm {
		vm[i] = FuncDecl{Name: fmt.Sprintf("f%03d", i), Size: 0x20 + (r.next()%16)*0x10}
	}
	s, err := New(Config{Vmlinux: vm, CPUs: 4, Offline: []int{3}, Seed: seed})
	must(t, err)
	pick := func(lo, hi, n int) []string {
		var out []string
		for i := lo; i < hi && len(out) < n; i += 1 + int(r.next()%2) {
			out = append(out, vm[i].Name)
		}
		return out
	}
	p1 := pick(0, 200, 80)
	p2 := append(pick(100, 200, 40), pick(200, 400, 40)...)
	p3 := pick(150, 260, 40)
	addMods(t, s,
		lp("p1", obj("vmlinux", "p1", p1...), obj("absent", "p1", "a0", "a1", "a2", "a3")),
		lp("p2", obj("vmlinux", "p2", p2...)),
		lpReplace("p3", obj("vmlinux", "p3", p3...)))
	must(t, s.Insmod("p1"))
	settle(t, s)
	must(t, s.Insmod("p2"))
	settle(t, s)
	var names []string // originals, replacement code of every patch, unrelated
	for _, f := range vm {
		names = append(names, f.Name)
	}
	for _, f := range p1 {
		names = append(names, "p1_"+f)
	}
	for _, f := range p2 {
		names = append(names, "p2_"+f)
	}
	spawnAll := func() {
		for i := 0; i < 1500; i++ {
			var st []FrameSpec
			for j := 0; j < 8; j++ {
				n := names[r.next()%uint64(len(names))]
				if r.next()%4 != 0 {
					n = vm[400+r.next()%200].Name // mostly unpatched functions
				}
				st = append(st, FrameSpec{Func: n, Off: r.next() % 0x20})
			}
			ts := TaskSpec{Comm: fmt.Sprintf("t%d", i), Kind: Kthread, State: Interruptible, Stack: st, Unreliable: r.next()%50 == 0}
			if i < 2 {
				ts.State, ts.CPU = Running, 1+i // CPUs 1 and 2 are busy
			}
			_, err := s.Spawn(ts)
			must(t, err)
		}
	}
	if !unpatch {
		spawnAll()
		must(t, s.Insmod("p3"))
	} else {
		must(t, s.Insmod("p3"))
		settle(t, s)
		for _, f := range p3 {
			names = append(names, "p3_"+f)
		}
		spawnAll()
		must(t, s.WriteFile(lpPath("p3", "enabled"), "0\n"))
	}
	if !inTransition(s) {
		t.Fatal("fixture: p3 not in transition")
	}
	rewind(s)
	return s
}

// BenchmarkView builds the bridge's picture of a 2,000-task machine in
// transition, which the page does after every step it shows.
func BenchmarkView(b *testing.B) {
	s := sweepFixture(b, 2000, 16, 100, 512, 2000, 7)
	s.tryCompleteTransition()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := s.View()
		if len(v.Tasks) != 2000+len(s.idle) {
			b.Fatalf("%d tasks in the view", len(v.Tasks))
		}
	}
}
