package scenario

import (
	"errors"
	"strings"
	"testing"
)

// Each limit refuses the statement that would pass it, before it runs,
// naming the place, the limit and its value; Cost finds the same without
// running anything.
func TestBudgetLimits(t *testing.T) {
	small := Budget{Tasks: 10, Frames: 40, Funcs: 5, Modules: 2, Steps: 12, StmtSeconds: 30, TotalSeconds: 50}
	cases := []struct {
		name, src, err string
	}{
		{"tasks", "vmlinux f g\ntask 1 a\nspawn-random 9 frames=0\nfork 1\n",
			"t:4:1: over the scenario budget: tasks limit is 10, this statement would need 11"},
		{"spawn-random counts before spawning", "vmlinux f g\nspawn-random 100000 frames=64\n",
			"t:2:14: over the scenario budget: tasks limit is 10, this statement would need 100000"},
		{"frames", "vmlinux f g\ntask 1 a state=S stack=f>g>f>g\nspawn-random 2 frames=16\nspawn-random 1 frames=5\n",
			"t:4:14: over the scenario budget: frames limit is 40, this statement would need 41"},
		{"functions", "vmlinux a b c\nmodule m x y\nlivepatch p\n object vmlinux\n  func a -> a2\nend\n",
			"t:3:1: over the scenario budget: functions limit is 5, this statement would need 6"},
		{"modules", "vmlinux a\nmodule m x\nmodule n y\nmodule o z\n",
			"t:4:1: over the scenario budget: modules limit is 2, this statement would need 3"},
		{"steps", strings.Repeat("vmlinux f\n", 1) + strings.Repeat("tick\n", 12),
			"t:13:1: over the scenario budget: steps limit is 12, this statement would need 13"},
		{"seconds per statement", "vmlinux f\ntick 10000\n",
			"t:2:1: over the scenario budget: seconds per statement limit is 30, this statement would need 40"},
		{"seconds", "vmlinux f\nsleep 20\nsettle 20\nuntil switch within=20\n",
			"t:4:1: over the scenario budget: seconds limit is 50, this statement would need 60"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cerr := Cost("t", c.src, small)
			if cerr == nil || cerr.Error() != c.err {
				t.Errorf("Cost: %v\nwant %s", cerr, c.err)
			}
			var be *BudgetError
			if !errors.As(cerr, &be) {
				t.Errorf("Cost's error is %T, want *BudgetError", cerr)
			}
			s, _, err := NewSessionBudget("t", c.src, small)
			if s != nil || err == nil || err.Error() != c.err {
				t.Errorf("NewSession: %v\nwant %s", err, c.err)
			}
		})
	}
}

// What Cost predicts is what running charges.
func TestCostMatchesRun(t *testing.T) {
	src := "hz 100\nvmlinux f g h\nmodule m x\nlivepatch p\n object vmlinux\n  func f -> f2\nend\n" +
		"task 1 a state=S stack=f>g\nspawn-random 50 frames=3\ninsmod p\ntick 250\nsettle 5\ntask 3 c cpu=0\nfork 3\n"
	want, err := Cost("t", src, DefaultBudget())
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := NewSession("t", src)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Used(); got != want {
		t.Errorf("running used %+v, Cost said %+v", got, want)
	}
	if want.Tasks != 53 || want.Frames != 152 || want.Funcs != 5 || want.Modules != 2 || want.Steps != 11 || want.Seconds != 7.5 {
		t.Errorf("Cost = %+v", want)
	}
	// A console statement is charged too, and refused cleanly.
	if _, err := s.Exec("spawn-random 100000 frames=64"); err == nil || !strings.Contains(err.Error(), "console:1:14: over the scenario budget: frames limit is 3200000") {
		t.Errorf("console over budget: %v", err)
	}
	if s.Used() != want {
		t.Errorf("a refused statement was charged: %+v", s.Used())
	}
}

// The hostile scenarios end at once with the limit named,
// instead of taking gigabytes or minutes.
func TestHostileScenariosRefused(t *testing.T) {
	blocked := "vmlinux f g\nlivepatch p\n object vmlinux\n  func f -> f2\nend\ntask 1 a state=D stack=f\ninsmod p\n"
	cases := []struct{ name, src, limit string }{
		{"20 x spawn-random 100000 frames=64", "vmlinux f g\n" + strings.Repeat("spawn-random 100000 frames=64\n", 20), "frames"},
		{"5 x spawn-random 100000", "vmlinux f g\n" + strings.Repeat("spawn-random 100000\n", 5), "tasks"},
		{"blocked transition and 300 x tick 1048576", blocked + strings.Repeat("tick 1048576\n", 300), "seconds per statement"},
		{"blocked transition and 300 x sleep 3600", blocked + strings.Repeat("sleep 3600\n", 300), "seconds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Cost("link", c.src, DefaultBudget()); err == nil || !strings.Contains(err.Error(), " "+c.limit+" limit is ") {
				t.Errorf("Cost: %v, want the %s limit", err, c.limit)
			}
		})
	}
}

// The session's console shows what the kernel log ring overwrote before
// it was printed, as a console does.
func TestLogRingDroppedNote(t *testing.T) {
	src := "vmlinux f g\nlivepatch p\n object vmlinux\n  func f -> f2\nend\n" +
		"task 1 a state=D stack=f\ntask 2 b state=D stack=f\ninsmod p\n"
	s, _, err := NewSessionBudget("t", src, Budget{LogBufLen: 4096})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Exec("sleep 120")
	if err != nil {
		t.Fatal(err)
	}
	dropped := false
	for _, o := range out {
		if o.Kind == "log" && strings.HasPrefix(o.Text, "** ") && strings.HasSuffix(o.Text, " printk messages dropped **") {
			dropped = true
		}
	}
	if !dropped {
		t.Fatal("no '** N printk messages dropped **' line after the ring wrapped")
	}
	if n := len(s.Sim().Log()); n == 0 || s.Sim().LogBase() == 0 {
		t.Fatalf("log of %d records from %d: the ring did not wrap", n, s.Sim().LogBase())
	}
	out, _ = s.Exec("dmesg")
	if len(out) == 0 || len(out) > 4096/16 {
		t.Errorf("dmesg printed %d lines from a 4 KiB ring", len(out))
	}
}

// Cost counts explore regions for the page, which asks before it offers a
// search; a comment or an argument that says "explore" is not one.
func TestCostCountsRegions(t *testing.T) {
	head := "vmlinux f\ntask 1 a state=S stack=f\n"
	for _, c := range []struct {
		name, src string
		want      int
	}{
		{"none", head + "tick 1\n", 0},
		{"comment", head + "# explore steps=3\n", 0},
		{"argument", head + "echo explore > /dev/kmsg\n", 0},
		{"one", head + "explore steps=3\n  wake 1\nend\n", 1},
		{"indented", head + "  explore\n    wake 1\n  end\n", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, err := Cost("t", c.src, DefaultBudget())
			if err != nil {
				t.Fatal(err)
			}
			if u.Regions != c.want {
				t.Errorf("Regions = %d, want %d", u.Regions, c.want)
			}
		})
	}
}
