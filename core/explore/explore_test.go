package explore

import (
	"os"
	"strings"
	"testing"

	"github.com/klp-playground/klp/core/scenario"
)

func load(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Each scenario's hazard is found by the search alone, its counterexample
// is as short as the hazard allows, and replaying the counterexample as an
// ordinary scenario shows the violation (its closing expect fails).
func TestFindsViolations(t *testing.T) {
	for _, c := range []struct {
		file, prop, detail string
		steps              int
		replayFails        bool
	}{
		{"force.klp", "consistency", "kworker/0:2:60 runs livepatch_frob's frob_commit and an older frob_work", 4, true},
		{"stall.klp", "liveness", "kworker/0:2:60 is sleeping on function frob_work", 2, true},
		{"rfc.klp", "hazard", "RFC hazard: dpdk-lcore:70 on CPU 3", 7, true},
	} {
		t.Run(c.file, func(t *testing.T) {
			for _, reduce := range []bool{true, false} {
				r, err := Explore(c.file, load(t, c.file), Options{NoReduce: !reduce})
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Violations) != 1 {
					t.Fatalf("reduce=%v: violations %+v, want one of %s", reduce, r.Violations, c.prop)
				}
				v := r.Violations[0]
				if v.Property != c.prop || !strings.Contains(v.Detail, c.detail) || len(v.Steps) != c.steps {
					t.Fatalf("reduce=%v: got %s %q in %d steps, want %s %q in %d", reduce, v.Property, v.Detail, len(v.Steps), c.prop, c.detail, c.steps)
				}
				s, _, err := scenario.NewSession("replay", v.Scenario)
				if err != nil {
					t.Fatalf("counterexample does not replay: %v\n%s", err, v.Scenario)
				}
				if (s.Failures() > 0) != c.replayFails {
					t.Errorf("replay: %d failures, want failing=%v\n%s", s.Failures(), c.replayFails, v.Scenario)
				}
			}
		})
	}
}

// The benchmark scenario breaks nothing, and the reduction explores the
// same states with fewer transitions.
func TestCleanAndReduction(t *testing.T) {
	src := load(t, "bench.klp")
	on, err := Explore("bench.klp", src, Options{Steps: 8})
	if err != nil {
		t.Fatal(err)
	}
	off, _ := Explore("bench.klp", src, Options{Steps: 8, NoReduce: true})
	if len(on.Violations)+len(off.Violations) != 0 {
		t.Fatalf("violations: %+v %+v", on.Violations, off.Violations)
	}
	if on.States != off.States || on.Completed != off.Completed {
		t.Errorf("reduction changed what is reached: %d/%d states, %d/%d complete", on.States, off.States, on.Completed, off.Completed)
	}
	if on.Transitions >= off.Transitions {
		t.Errorf("reduction saved nothing: %d transitions vs %d", on.Transitions, off.Transitions)
	}
}

// An expect in the region is checked in every interleaving, and the first
// order that breaks it is reported.
func TestExpectInRegion(t *testing.T) {
	src := `kernel 6.16
vmlinux f g
task 1 a
task 2 b
explore steps=4
  any-order
    call 1 f
    call 2 g
  end
  expect stack 1 has f
  either
    ret 1
  or
    ret 2
  end
  expect stack 1 has f
end
`
	r, err := Explore("t", src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Violations) != 1 || r.Violations[0].Property != "expect" {
		t.Fatalf("violations %+v", r.Violations)
	}
	got := strings.Join(r.Violations[0].Steps, "; ")
	if want := "call 1 f; call 2 g; expect stack 1 has f; ret 1; expect stack 1 has f"; got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
	if r.Completed != 2 || r.Bound != "" {
		t.Errorf("completed %d bound %q, want 2 and none", r.Completed, r.Bound)
	}
}

// Bounds cut the search and say so.
func TestBounds(t *testing.T) {
	src := load(t, "bench.klp")
	for _, c := range []struct {
		o     Options
		bound string
	}{
		{Options{MaxStates: 50}, "states"},
		{Options{Steps: 3}, "steps"},
		{Options{MaxMemory: 1 << 20}, "memory"},
	} {
		r, err := Explore("bench.klp", src, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Bound != c.bound {
			t.Errorf("%+v: bound %q, want %q", c.o, r.Bound, c.bound)
		}
		if c.o.MaxStates > 0 && r.States > c.o.MaxStates {
			t.Errorf("%d states over the bound %d", r.States, c.o.MaxStates)
		}
		if r.HeldBytes > r.Options.MaxMemory || r.HeldBytes == 0 {
			t.Errorf("%+v: states held took %d bytes, bound %d", c.o, r.HeldBytes, r.Options.MaxMemory)
		}
	}
	n := 0
	r, _ := Explore("bench.klp", src, Options{ProgressEvery: 10, Progress: func(Stats) bool { n++; return n < 3 }})
	if !r.Cancelled || n != 3 {
		t.Errorf("cancel: cancelled=%v after %d calls", r.Cancelled, n)
	}
}

func TestPrepareErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"task 1 a\n", "no explore region"},
		{"explore steps=0\n  tick 1\nend\n", "steps"},
		{"explore memory=0\n  tick 1\nend\n", `t:1:9: explore memory="0": expected a positive number`},
		{"explore memory=2G\n  tick 1\nend\n", `t:1:9: explore memory="2G": expected a positive number`},
		{"explore memori=2\n  tick 1\nend\n", `unknown explore option "memori=2" (did you mean "memory"?)`},
		{"explore stepz=3\n  tick 1\nend\n", `unknown explore option "stepz=3" (did you mean "steps"?)`},
		{"explore\n  any-order\n    tick 1\nend\n", "explore is not closed"},
		{"explore\n  or\nend\n", "'or' outside an either block"},
		{"explore\n  either\n    tick 1\n  end\nend\n", "at least two branches"},
		{"explore\n  vmlinux f\nend\n", "vmlinux cannot stand in an explore region"},
		{"explore\n  any-order\n  end\nend\n", "empty any-order block"},
		{"explore\n  tick 1\nend\nexplore\n  tick 1\nend\n", "one explore region"},
	} {
		_, err := Prepare("t", c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.src, err, c.want)
		}
	}
}

// The fork race of the pre-6.1 kernels is found from a fork and a
// reversal in any order (with the kernel's fork-finish a choice of its
// own), and 6.1 is free of it.
func TestForkRace(t *testing.T) {
	for _, c := range []struct {
		file  string
		props []string
	}{
		{"fork-race-6.0.klp", []string{"warning", "invariant"}},
		{"fork-race-6.1.klp", nil},
	} {
		r, err := Explore(c.file, load(t, c.file), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range r.Violations {
			got = append(got, v.Property)
		}
		if strings.Join(got, ",") != strings.Join(c.props, ",") {
			t.Errorf("%s: violated %v, want %v", c.file, got, c.props)
		}
		if r.Completed == 0 {
			t.Errorf("%s: no interleaving completed", c.file)
		}
		for _, v := range r.Violations {
			if !strings.Contains(strings.Join(v.Steps, "\n"), "fork 101 child=102 dup-only\necho 0 > /sys/kernel/livepatch/livepatch_sample/enabled") {
				t.Errorf("%s: %s counterexample %q lacks the fork then the reversal", c.file, v.Property, v.Steps)
			}
		}
	}
}

// Found gets each property's counterexample once, as the search finds
// it (some before the search has seen all its states), and the same ones
// the result lists.
func TestFoundAsFound(t *testing.T) {
	files, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	total, early := 0, 0
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".klp") {
			continue
		}
		t.Run(f.Name(), func(t *testing.T) {
			var found []Violation
			var statesThen []int
			var r *Result
			p, err := Prepare(f.Name(), load(t, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			states := 0
			r = p.Run(Options{
				Progress:      func(s Stats) bool { states = s.States; return true },
				ProgressEvery: 1,
				Found: func(v Violation) {
					found = append(found, v)
					statesThen = append(statesThen, states)
				},
			})
			if len(found) != len(r.Violations) {
				t.Fatalf("Found called %d times, the result lists %d violations", len(found), len(r.Violations))
			}
			seen := map[string]bool{}
			for i, v := range found {
				if seen[v.Property] {
					t.Fatalf("%s found twice", v.Property)
				}
				seen[v.Property] = true
				var w *Violation
				for j := range r.Violations {
					if r.Violations[j].Property == v.Property {
						w = &r.Violations[j]
					}
				}
				if w == nil || w.Scenario != v.Scenario || w.Detail != v.Detail {
					t.Fatalf("Found's %s is not the result's", v.Property)
				}
				if statesThen[i] < r.States {
					early++ // the search went on after it
				}
			}
			total += len(found)
		})
	}
	if total < 3 || early == 0 {
		t.Fatalf("%d violations found over the golden scenarios, %d before the search's end: the test checks too little", total, early)
	}
}

// After the region, fair scheduling lets what the kernel began finish: a
// fork stopped between dup_task_struct and klp_copy_process goes on, so
// its parent can return to user space and switch (FuzzExplore found a
// liveness "violation" with no task stalled when it did not).
func TestLivenessFinishesForks(t *testing.T) {
	src := `kernel 6.16
cpus 2
vmlinux do_syscall_64/0x100 cmdline_proc_show/0x30
livepatch lp1
  object vmlinux
    func cmdline_proc_show -> lp1_cmdline/0x30
end
task 101 sh state=running cpu=1 stack=do_syscall_64
insmod lp1
explore steps=2
  any-order
    fork 101 child=102 dup-only
  end
end
`
	r, err := Explore("fork.klp", src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Completed == 0 {
		t.Fatal("no interleaving completed: the liveness check never ran")
	}
	for _, v := range r.Violations {
		t.Errorf("%s: %s\n%s", v.Property, v.Detail, v.Scenario)
	}
}

// The memory bound: the states held at once (the frontier and the next
// level) stay under it, it is sticky (once hit, no state is kept: a
// bound search keeps the first states of the full one, breadth-first, so
// a larger bound keeps more), and the same bound gives the same search.
func TestMemoryBound(t *testing.T) {
	src := load(t, "bench.klp")
	full, err := Explore("bench.klp", src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if full.Bound == "memory" || full.HeldBytes <= 0 {
		t.Fatalf("the benchmark's search: bound %q, held %d", full.Bound, full.HeldBytes)
	}
	prev := 0
	for _, mb := range []int{1, 2, 4} {
		o := Options{MaxMemory: mb << 20}
		a, _ := Explore("bench.klp", src, o)
		b, _ := Explore("bench.klp", src, o)
		if a.Bound != "memory" || a.HeldBytes > o.MaxMemory || a.States >= full.States || a.States <= prev {
			t.Errorf("%d MB: bound %q, held %d, %d states of %d (%d with less)", mb, a.Bound, a.HeldBytes, a.States, full.States, prev)
		}
		prev = a.States
		if summary(a) != summary(b) {
			t.Errorf("%d MB: two searches differ", mb)
		}
	}
}
