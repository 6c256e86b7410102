package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTaskOrderWithHoles: forks (threads go after their group's last
// member), exits (which leave holes) and walks (which close them) in
// random order keep s.tasks in for_each_process_thread order, as a plain
// list that moves its elements on every change would have it: with a few
// tasks (no index, a scan) and with many (the index, built on the way).
func TestTaskOrderWithHoles(t *testing.T) {
	for _, c := range []struct {
		name  string
		start int
		max   int // forks stop at this many tasks
		forks int // at least this many forks and exits
		large bool
	}{{"small", 4, indexMin - 8, 50, false}, {"large", 40, 1 << 20, 50, true}} {
		t.Run(c.name, func(t *testing.T) { testTaskOrder(t, c.start, c.max, c.forks, c.large) })
	}
}

func testTaskOrder(t *testing.T, start, max, minOps int, large bool) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		s, err := New(Config{Vmlinux: testVmlinux, CPUs: 1})
		if err != nil {
			t.Fatal(err)
		}
		type ent struct{ pid, tgid int }
		var model []ent
		for range start {
			pid, err := s.Spawn(TaskSpec{Comm: "t", State: Runnable, Stack: []FrameSpec{{Func: "do_syscall_64"}}})
			if err != nil {
				t.Fatal(err)
			}
			model = append(model, ent{pid, pid})
		}
		forks, exits := 0, 0
		for step := range 600 {
			e := model[r.IntN(len(model))]
			switch k := r.IntN(10); {
			case k < 5: // fork, a thread most times
				if len(model) >= max || s.Run(e.pid, 0) != nil {
					continue
				}
				thread := k < 4
				child, err := s.Fork(e.pid, 0, "", thread)
				if err != nil {
					continue
				}
				forks++
				if !thread {
					model = append(model, ent{child, child})
					break
				}
				at := 0
				for i, m := range model {
					if m.tgid == e.tgid {
						at = i + 1
					}
				}
				model = slices.Insert(model, at, ent{child, e.tgid})
			case k < 9:
				if len(model) < 3 || s.Exit(e.pid) != nil {
					continue
				}
				exits++
				model = slices.DeleteFunc(model, func(m ent) bool { return m.pid == e.pid })
			default:
				_ = s.View() // a walk: closes the holes
			}
			if step%50 == 0 || step == 599 {
				var want []int
				for _, m := range model {
					want = append(want, m.pid)
				}
				if got := s.PIDs(); !slices.Equal(got, want) {
					t.Fatalf("seed %d step %d: order\n%v\nwant\n%v", seed, step, got, want)
				}
				for _, m := range model {
					if tk := s.task(m.pid); tk == nil || tk.PID != m.pid || tk.TGID != m.tgid {
						t.Fatalf("seed %d step %d: pid %d not found as itself", seed, step, m.pid)
					}
				}
			}
		}
		if s.tidx.indexed() != large {
			t.Fatalf("seed %d: indexed %v with %d tasks", seed, s.tidx.indexed(), len(model))
		}
		if forks < minOps || exits < minOps {
			t.Fatalf("seed %d: only %d forks and %d exits ran", seed, forks, exits)
		}
	}
}
