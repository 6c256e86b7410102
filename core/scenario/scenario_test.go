package scenario

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func sample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/sample.klp")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func stripPos(sts []Stmt) []Stmt {
	out := make([]Stmt, len(sts))
	for i, st := range sts {
		st.Pos = Pos{}
		args := make([]Arg, len(st.Args))
		for j, a := range st.Args {
			a.Pos = Pos{}
			args[j] = a
		}
		st.Args = args
		st.Body = stripPos(st.Body)
		if len(st.Body) == 0 {
			st.Body = nil
		}
		out[i] = st
	}
	return out
}

func TestPrintParseRoundTrip(t *testing.T) {
	srcs := []string{sample(t), `
kernel 5.1
livepatch p replace
  object vmlinux
    func f -> g/0x20 sympos=2
    callback pre_patch ret=ENODEV "pre_patch_callback: {objstate}" if-prev=1 "x \"quoted\" \\ y"
  state 1 version=2
end
expect dmesg
  livepatch: enabling patch 'p'
end
echo -n "a b" > /tmp/x
task 5 a stack= state=S
until switch "cat:42" within=2.5
`}
	for i, src := range srcs {
		sc, err := Parse("t", src)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		again, err := Parse("t", sc.String())
		if err != nil {
			t.Fatalf("%d: reparse of printed script: %v\n%s", i, err, sc.String())
		}
		if !reflect.DeepEqual(stripPos(sc.Stmts), stripPos(again.Stmts)) {
			t.Errorf("%d: parse(print(x)) != x\n%s", i, sc.String())
		}
		if sc.String() != again.String() {
			t.Errorf("%d: printing is not stable", i)
		}
	}
}

// asleepShell leaves the declared shell, bash:43, asleep in its write:
// the unpatch it completes waits for an RCU Tasks grace period.
const asleepShell = `kernel 6.12
vmlinux do_syscall_64 f/0x30
livepatch p
  object vmlinux
    func f -> g/0x30
end
task 43 bash user
shell 43
insmod p
echo 0 > /sys/kernel/livepatch/p/enabled
`

func TestErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"insmdo foo", `f:1:1: unknown command "insmdo" (did you mean "insmod"?)`},
		{"kernel 6.16\n\ncall", "f:3:1: call needs at least 2 argument(s)"},
		{"livepatch p\n  objet vmlinux\nend", `f:2:3: unknown livepatch line "objet"`},
		{"livepatch p\n  object vmlinux", "f:1:1: livepatch p is not closed with 'end'"},
		{`echo "abc`, "f:1:6: unterminated quoted string"},
		{"kernel 3.10", "predates the per-task consistency model"},
		{"vmlinux a\nkernel 6.4", "f:2:1: kernel must come before the machine is built"},
		{"vmlinux cmdline_proc_show\ntask 1 cat state=S stack=cmdline_proc_shw", "f:2:1: task 1 stack: no function cmdline_proc_shw in any loaded object (did you mean cmdline_proc_show?)"},
		{"task 1 cat stat=S", `f:1:12: unknown option "stat" (did you mean "state"?)`},
		{"cpus 2 nohz=1", `unknown option "nohz" (did you mean "nohz_full"?)`},
		{"expect tansition none", `unknown expect form "tansition" (did you mean "transition"?)`},
		{"task 1 a\ncall 1 nosuch", "f:2:8: call: no function nosuch"},
		{"kernel 6.4\ntask 1 k kthread state=running cpu=0\ncond_resched 1 spilt", `f:3:16: cond_resched PID [split]: unexpected "spilt"`},
		{"kernel 6.4\ntask 1 k kthread state=running cpu=0\ncond_resched 1 split", "f:3:1: cond_resched 1 split: the livepatch hook does not act here (no transition has enabled it)"},
		{"kernel 6.4\ntask 1 k kthread state=running cpu=0\ncond_resched-finish 1", "not inside __klp_sched_try_switch"},
		{"vmlinux f alias.g=h", "f:1:1: vmlinux: alias g: no function h declared before it"},
		{"vmlinux f\nmodule m x alias.y=f", "f:2:1: module m: alias y: no function f declared before it"},
		{"vmlinux f alias.f=f", `f:1:1: vmlinux: alias "f" of f: give it a name of its own`},
		{"vmlinux f\nlivepatch p\n  object vmlinux\n  reloc .klp.rela.vmlinux.text\nend", "f:4:3: reloc .klp.rela.OBJ.SECTION .klp.sym.OBJ.NAME,SYMPOS [unmarked]"},
		{"vmlinux f\nlivepatch p\n  object vmlinux\n  relc a b\nend", `f:4:3: unknown livepatch line "relc" (want object, func, callback, state, param, pidcount, reloc or end); did you mean "reloc"?`},
		{"vmlinux f\nfile cmdline f", `f:2:1: file "cmdline": want an absolute /proc/… or /sys/… path`},
		{"vmlinux f\nfile /proc/x f\nfile /proc/x f", "f:3:1: file /proc/x declared twice"},
		{"vmlinux f\nfile /proc/sys/kernel/ftrace_enabled f", "f:2:1: file /proc/sys/kernel/ftrace_enabled: the kernel already provides it"},
		{"vmlinux f\nlivepatch p\n  object vmlinux\n    func f -> g prnts=x\nend", `unknown option "prnts" (did you mean "prints"?)`},
		{"kernel 4.16\nvmlinux f\nlivepatch p immediate\n  object vmlinux\n    func f -> g\nend", "f:3:1: livepatch p: immediate was removed in kernel 4.16 (profile 4.16)"},
		{"kernel 4.15\nvmlinux f\nlivepatch p\n  object vmlinux\n    func f -> g immediat\nend", `unknown option "immediat" (did you mean "immediate"?)`},
		{"kernel 5.1\nvmlinux f\nlivepatch p\n  object vmlinux\n    func f -> g immediate\nend", "immediate was removed in kernel 4.16 (profile 5.1)"},
		{"vmlinux a\nuntil signl", `f:2:7: unknown event kind "signl" (did you mean "signal"?)`},
		{"vmlinux a\nuntil switch a b", "f:2:16: until takes one text to look for"},
		{"vmlinux a\nuntil switch within=NaN", `f:2:14: until: within= takes seconds (0..3600), got "NaN"`},
		{"vmlinux a\nuntil switch for=3", "f:2:14: until: unknown option for="},
		{"vmlinux a\nexpect event swich", `f:2:14: unknown event kind "swich" (did you mean "switch"?)`},
		{"vmlinux a\nsleep Inf", `sleep takes seconds (0..3600), got "Inf"`},
		// a declared shell asleep in its write runs nothing else, and
		// nothing but the grace period's end wakes it
		{asleepShell + "rmmod p", "f:11:1: rmmod: the shell (task 43) sleeps (D) in its write and runs nothing until that returns"},
		{asleepShell + "cat /sys/kernel/livepatch/p/enabled", "the shell (task 43) sleeps in its write"},
		{asleepShell + "wake 43", "it wakes when that ends"},
		{"vmlinux f\ntask 1 a state=running cpu=0\ncall 1 f split", "f:3:8: call f split: no ftrace handler runs for it (it is not patched)"},
		{"vmlinux f\ntask 1 a state=running cpu=0\ncall 1 f split=stack", "f:3:10: split=stack: want split"},
		{"vmlinux f\ntask 1 a\ncall-finish 1", "call-finish: pid 1 is not inside klp_ftrace_handler"},
	}
	for _, c := range cases {
		_, _, err := NewSession("f", c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, err, c.want)
		}
	}
}

// TestUntil: "until KIND [TEXT] [within=S]" runs time to the first new
// matching event and says when it came, or that none did.
func TestUntil(t *testing.T) {
	head := strings.Join(strings.Split(sample(t), "\n")[:10], "\n") // up to the insmod
	cases := []struct{ line, note string }{
		{"until signal", "signal event after 14.848s: cat:42 gets a fake signal and wakes"},
		{`until step "klp_complete_transition" within=20`, "step event after 15.840s: klp_complete_transition"},
		{"until callback within=20", "no callback event within 20s"},
		{`until signal "bash" within=2.5`, `no signal "bash" event within 2.5s`},
	}
	for _, c := range cases {
		s, _, err := NewSession("f", head)
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Exec(c.line)
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		last := out[len(out)-1]
		if last.Kind != "note" || !strings.HasPrefix(last.Text, c.note) {
			t.Errorf("%s: last output %+v, want a note starting %q", c.line, last, c.note)
		}
		if !strings.HasSuffix(s.Source(), "\n"+c.line+"\n") {
			t.Errorf("%s: not recorded in the source:\n%s", c.line, s.Source())
		}
	}
}

func TestBrokenScenarioAppliesNothing(t *testing.T) {
	s, _, err := NewSession("f", "vmlinux f\ntask 1 a\ninsmod nothing\ncall 1 nosuch")
	if err == nil || s != nil {
		t.Fatalf("want an error and no session, got %v %v", s, err)
	}
}

func TestShellErrors(t *testing.T) {
	s, _, err := NewSession("f", sample(t))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ line, want string }{
		{"echo 1 > /sys/kernel/livepatch/nope/enabled", "bash: /sys/kernel/livepatch/nope/enabled: No such file or directory"},
		{"insmod nosuch.ko", "insmod: ERROR: could not load module nosuch.ko: No such file or directory"},
		{"rmmod nosuch", "rmmod: ERROR: Module nosuch is not currently loaded"},
		{"kill -STOP 999", "bash: kill: (999) - No such process"},
		{"cat /proc/42/nope", "cat: /proc/42/nope: No such file or directory"},
	}
	for _, c := range cases {
		out, err := s.Exec(c.line)
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		got := ""
		for _, o := range out {
			if o.Kind == "stderr" {
				got = o.Text
			}
		}
		if got != c.want {
			t.Errorf("%s: stderr %q, want %q", c.line, got, c.want)
		}
	}
	// a write error changes nothing
	for _, l := range []string{"rmmod livepatch_sample", "insmod livepatch-sample.ko"} {
		if out, err := s.Exec(l); err != nil || out[len(out)-1].Kind == "stderr" {
			t.Fatalf("%s: %v %v", l, out, err)
		}
	}
	var out []Out
	out, _ = s.Exec("echo 2 > /sys/kernel/livepatch/livepatch_sample/enabled")
	if last := out[len(out)-1]; last.Text != "bash: echo: write error: Invalid argument" {
		t.Errorf("got %q", last.Text)
	}
	if v, _ := s.Sim().ReadFile("/sys/kernel/livepatch/livepatch_sample/enabled"); v != "1\n" {
		t.Errorf("enabled = %q after a rejected write", v)
	}
}

func TestSourceReplaysToSameState(t *testing.T) {
	s, _, err := NewSession("f", sample(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"task 50 sh", "insmod livepatch-sample.ko", "tick 10", "fork 50 child=77", "block 77"} {
		if _, err := s.Exec(l); err != nil {
			t.Fatal(err)
		}
	}
	again, _, err := NewSession("share", s.Source())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Sim().View(), again.Sim().View()) {
		t.Fatal("a session replayed from its Source differs")
	}
	if len(s.Sim().Log()) != len(again.Sim().Log()) {
		t.Fatal("logs differ")
	}
}

func TestGoalsExplain(t *testing.T) {
	src := strings.SplitN(sample(t), "cat /sys", 2)[0]
	s, _, err := NewSession("f", src+"\ngoal task 42 patch_state=1\n")
	if err != nil {
		t.Fatal(err)
	}
	g := s.Goals()
	if len(g) != 1 || g[0].OK || !strings.Contains(g[0].Reason, "sleeping on function cmdline_proc_show") {
		t.Fatalf("goal: %+v", g)
	}
	// "transition none" names who holds the transition, and why
	cases := []struct{ extra, want string }{
		{"", "livepatch_sample is still patching: cat:42 is sleeping on function cmdline_proc_show"},
		{"task 50 spin kthread state=running cpu=1 stack=vfs_read\n", "livepatch_sample is still patching: cat:42 is sleeping on function cmdline_proc_show; spin:50 is running"},
		{"task 43 bash state=D stack=do_syscall_64>ksys_read>vfs_read>seq_read>cmdline_proc_show>schedule\ntask 44 cat2 state=S stack=cmdline_proc_show\ntask 45 cat3 state=S stack=cmdline_proc_show\n",
			"livepatch_sample is still patching: cat:42 is sleeping on function cmdline_proc_show; bash:43 is sleeping on function cmdline_proc_show; cat2:44 is sleeping on function cmdline_proc_show (and 1 more)"},
	}
	for _, c := range cases {
		src := strings.Replace(src, "insmod", c.extra+"insmod", 1)
		s, _, err := NewSession("f", src+"\ngoal transition none\n")
		if err != nil {
			t.Fatal(err)
		}
		if g := s.Goals(); len(g) != 1 || g[0].OK || g[0].Reason != c.want {
			t.Errorf("goal transition none: %+v, want the reason %q", g, c.want)
		}
	}
	s, _, err = NewSession("f", src+"\nsleep 16\ngoal transition none\n")
	if err != nil {
		t.Fatal(err)
	}
	if g := s.Goals(); len(g) != 1 || !g[0].OK || g[0].Reason != "no transition in progress" {
		t.Errorf("after the transition: %+v", g)
	}
}
