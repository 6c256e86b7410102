package sim_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
)

// apply does what web/lib/viewdelta.js does: the last view plus a delta
// gives the new view.
func apply(prev *sim.View, d sim.ViewDelta) sim.View {
	v := d.View
	if d.Full {
		return v
	}
	tasks := prev.Tasks
	if d.Keys != nil {
		byKey := map[int]sim.TaskView{}
		for i := range prev.Tasks {
			byKey[sim.TaskKey(&prev.Tasks[i])] = prev.Tasks[i]
		}
		tasks = make([]sim.TaskView, len(d.Keys))
		for i, k := range d.Keys {
			tasks[i] = byKey[k]
		}
	} else {
		tasks = append([]sim.TaskView(nil), tasks...)
	}
	for i, idx := range d.Changed {
		tasks[idx] = d.Tasks[i]
	}
	v.Tasks = tasks
	return v
}

// TestViewDeltaRebuildsView: after every step of a session (forks,
// exits, a second patch, a transition running to its end, the timeline
// going back), the previous view plus the delta is exactly the view; and
// a step that moves few tasks sends few.
func TestViewDeltaRebuildsView(t *testing.T) {
	src := `kernel 6.16
cpus 2
vmlinux do_syscall_64 ksys_read vfs_read seq_read cmdline_proc_show/0x30 meminfo_proc_show/0x40 schedule
livepatch lp-a
  object vmlinux
    func cmdline_proc_show -> a_cmdline_proc_show/0x30
end
livepatch lp-b
  object vmlinux
    func cmdline_proc_show -> b_cmdline_proc_show/0x30
    func meminfo_proc_show -> b_meminfo_proc_show/0x40
end
task 42 cat state=S stack=do_syscall_64>ksys_read>vfs_read>seq_read>cmdline_proc_show+0x1a>schedule
task 43 bash user
spawn-random 300
`
	s, _, err := scenario.NewSession("delta", src)
	if err != nil {
		t.Fatal(err)
	}
	var tr sim.ViewTracker
	var prev sim.View
	step := func(line string, wantFull bool, maxChanged int) {
		t.Helper()
		if line != "" {
			if _, err := s.Exec(line); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
		}
		d := s.Sim().ViewDelta(&tr)
		got := apply(&prev, d)
		want := s.Sim().View()
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Fatalf("after %q: the view rebuilt from the delta differs from View()", line)
		}
		if d.Full != wantFull {
			t.Errorf("after %q: Full = %v, want %v", line, d.Full, wantFull)
		}
		if maxChanged >= 0 && len(d.Changed) > maxChanged {
			t.Errorf("after %q: %d tasks sent, want at most %d", line, len(d.Changed), maxChanged)
		}
		if len(d.Changed) != len(d.Tasks) {
			t.Errorf("after %q: %d indexes for %d tasks", line, len(d.Changed), len(d.Tasks))
		}
		prev = want
	}
	step("", true, -1)
	step("", false, 0)
	step("insmod lp-a.ko", true, -1) // a func_stack appeared
	step("tick 1", false, -1)
	step("fork 43", false, 2)
	step("exit 42", false, -1)
	step("settle", false, -1)
	step("insmod lp-b.ko", true, -1)
	step("tick 1", false, -1)
	step("settle", false, -1)
	step("tick 250", false, 10)
	// another machine (as after the timeline moved): a full view
	clone := s.Clone()
	s = clone
	step("", true, -1)
}

// TestSameHeadSeesEveryField: a TaskView field that sameHead ignored
// would let a change go unsent.
func TestSameHeadSeesEveryField(t *testing.T) {
	typ := reflect.TypeOf(sim.TaskView{})
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Name == "Stack" {
			continue
		}
		a := sim.TaskView{}
		b := sim.TaskView{}
		fv := reflect.ValueOf(&b).Elem().Field(i)
		switch fv.Kind() {
		case reflect.Int:
			fv.SetInt(7)
		case reflect.String:
			fv.SetString("x")
		case reflect.Bool:
			fv.SetBool(true)
		default:
			t.Fatalf("TaskView.%s: kind %s not handled here", f.Name, fv.Kind())
		}
		if sim.SameHeadForTest(&a, &b) {
			t.Errorf("sameHead ignores TaskView.%s", f.Name)
		}
	}
}
