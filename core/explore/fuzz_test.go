package explore

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/klp-playground/klp/core/scenario"
)

// fuzzKernels and fuzzStmts are what FuzzExplore builds regions from: a
// machine with a sleeper in a patched function, a shell that forks, a
// kworker in another, two patches, on kernels before and after the fork
// fix; and the statements that act on it (some are refused in some
// states or kernels: the search takes them as disabled choices).
var fuzzKernels = []string{"6.0", "6.16", "5.1", "4.15"}

var fuzzStmts = []string{
	"fork 101 child=102 dup-only",
	"fork 101 child=103",
	"echo 0 > /sys/kernel/livepatch/lp1/enabled",
	"echo 1 > /sys/kernel/livepatch/lp1/force",
	"insmod lp2",
	"sysret 101",
	"wake 100",
	"ret 100",
	"wake 60",
	"ret 60 2",
	"call 60 frob_commit",
	"call 101 cmdline_proc_show",
	"ret 101",
	"block 101",
	"echo 1 > /sys/kernel/livepatch/lp1/signal",
	"kill -STOP 100",
	"cond_resched 101",
}

const fuzzPrefix = `cpus 2
vmlinux do_syscall_64/0x100 seq_read/0x90 cmdline_proc_show/0x30 meminfo_proc_show/0x30 schedule/0x40 kthread worker_thread process_one_work frob_work frob_commit msleep
livepatch lp1
  object vmlinux
    func cmdline_proc_show -> lp1_cmdline/0x30
    func frob_work -> lp1_frob_work/0x80
end
livepatch lp2
  object vmlinux
    func meminfo_proc_show -> lp2_meminfo/0x30
end
task 100 dd state=D stack=do_syscall_64>seq_read>cmdline_proc_show>schedule
task 101 sh state=running cpu=1 stack=do_syscall_64
task 60 kworker/0:2 kthread state=D stack=kthread>worker_thread>process_one_work>frob_work+0x30>msleep>schedule
insmod lp1
`

// fuzzScenario decodes data into a scenario with an explore region of
// two to four items, each one statement, a few in order, or a choice of
// two.
func fuzzScenario(data []byte) string {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := int(data[0])
		data = data[1:]
		return b
	}
	var b strings.Builder
	fmt.Fprintf(&b, "kernel %s\n%s", fuzzKernels[next()%len(fuzzKernels)], fuzzPrefix)
	fmt.Fprintf(&b, "explore steps=%d seconds=5 states=3000\n  any-order\n", 3+next()%5)
	stmt := func() string { return fuzzStmts[next()%len(fuzzStmts)] }
	for n := 2 + next()%3; n > 0; n-- {
		switch k := next() % 4; k {
		case 0, 1:
			b.WriteString("    " + stmt() + "\n")
		case 2:
			b.WriteString("    in-order\n")
			for m := 1 + next()%3; m > 0; m-- {
				b.WriteString("      " + stmt() + "\n")
			}
			b.WriteString("    end\n")
		default:
			b.WriteString("    either\n      " + stmt() + "\n    or\n      " + stmt() + "\n    end\n")
		}
	}
	b.WriteString("  end\nend\n")
	return b.String()
}

// FuzzExplore: over random regions, the search is deterministic; the
// reduction reaches the states the full search does and finds the same
// properties broken, each as short; and every counterexample replays as
// an ordinary scenario that shows what broke.
func FuzzExplore(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 4, 1, 0, 0, 0, 2, 0, 5},         // 6.0: fork (dup only), disable, sysret: the fork race
		{1, 3, 0, 0, 3, 2, 3, 8, 9, 10},     // 6.16: force against the kworker's steps
		{2, 2, 1, 3, 2, 6, 7, 2, 1, 11, 12}, // 5.1: a choice, and the shell's calls
		{3, 4, 1, 0, 15, 0, 14, 0, 13},      // 4.15: fake signals, a stopped sleeper, a blocked shell
		{1, 1, 2, 0, 2, 2, 1, 6, 0, 4},      // 6.16: a reversal against a sleeper, and a second patch
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := fuzzScenario(data)
		p, err := Prepare("fuzz", src)
		if err != nil {
			t.Fatalf("the fuzz scenario does not prepare: %v\n%s", err, src)
		}
		on := p.Run(Options{})
		again := p.Run(Options{})
		if !reflect.DeepEqual(on.Stats, again.Stats) || !reflect.DeepEqual(on.Violations, again.Violations) {
			t.Fatalf("the same search gave %+v then %+v\n%s", on.Stats, again.Stats, src)
		}
		off := p.Run(Options{NoReduce: true})
		if on.Bound != "states" && off.Bound != "states" {
			if on.States != off.States || on.Completed != off.Completed {
				t.Fatalf("the reduction changed what is reached: %d/%d states, %d/%d complete\n%s", on.States, off.States, on.Completed, off.Completed, src)
			}
			if len(on.Violations) != len(off.Violations) {
				t.Fatalf("with the reduction %d properties broken, without %d\n%s", len(on.Violations), len(off.Violations), src)
			}
			for i := range on.Violations {
				a, b := on.Violations[i], off.Violations[i]
				if a.Property != b.Property || len(a.Steps) != len(b.Steps) {
					t.Fatalf("with the reduction %s in %d steps, without %s in %d\n%s", a.Property, len(a.Steps), b.Property, len(b.Steps), src)
				}
			}
		}
		for _, v := range on.Violations {
			s, _, err := scenario.NewSession("replay", v.Scenario)
			if err != nil {
				t.Fatalf("the %s counterexample does not replay: %v\n%s", v.Property, err, v.Scenario)
			}
			switch v.Property {
			case "consistency", "warning", "hazard", "liveness":
				if s.Failures() == 0 {
					t.Fatalf("replaying the %s counterexample breaks nothing\n%s", v.Property, v.Scenario)
				}
			}
		}
	})
}
