package sim

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// transcript drives a Sim through a whole scenario and records, after each
// action, the kernel log (every level) and the events it produced.
type transcript struct {
	t *testing.T
	s *Sim
	b strings.Builder
}

func newTranscript(t *testing.T, title, prof string, opts ...cfgOpt) *transcript {
	s := newSim(t, prof, opts...)
	g := &transcript{t: t, s: s}
	cpus := s.CPUs()
	var off, nohz []string
	for _, c := range cpus {
		if !c.Online {
			off = append(off, fmt.Sprint(c.ID))
		}
		if c.NohzFull {
			nohz = append(nohz, fmt.Sprint(c.ID))
		}
	}
	fmt.Fprintf(&g.b, "# %s\n# profile %s, HZ=%d, %d CPUs", title, s.Profile(), s.HZ(), len(cpus))
	if len(nohz) > 0 {
		fmt.Fprintf(&g.b, ", nohz_full=%s", strings.Join(nohz, ","))
	}
	if len(off) > 0 {
		fmt.Fprintf(&g.b, ", offline=%s", strings.Join(off, ","))
	}
	g.b.WriteString("\n")
	return g
}

// step runs one action and records what it printed.
func (g *transcript) step(desc string, fn func() (string, error)) {
	g.t.Helper()
	out, err := fn()
	fmt.Fprintf(&g.b, "\n$ %s\n", desc)
	if out != "" {
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			fmt.Fprintf(&g.b, "> %s\n", l)
		}
	}
	if err != nil {
		fmt.Fprintf(&g.b, "! %v\n", err)
	}
	r := g.s.Ready()
	for _, l := range r.Log {
		fmt.Fprintf(&g.b, "%-6s %s\n", l.Level, l.Dmesg())
	}
	for _, e := range r.Events {
		fmt.Fprintf(&g.b, "  . [%5d.%06d] %-8s %s\n", e.Time/1e9, (e.Time%1e9)/1e3, e.Kind, e.Text)
	}
}

// mustStep is step for actions the scenario expects to succeed.
func (g *transcript) mustStep(desc string, fn func() error) {
	g.t.Helper()
	g.step(desc, func() (string, error) {
		err := fn()
		if err != nil {
			g.t.Fatalf("%s: %v", desc, err)
		}
		return "", nil
	})
}

func (g *transcript) insmod(m string) {
	g.mustStep("insmod "+m+".ko", func() error { return g.s.Insmod(m) })
}

func (g *transcript) rmmod(m string) {
	g.mustStep("rmmod "+m, func() error { return g.s.Rmmod(m) })
}

// insmodFails records a module load the scenario expects to fail.
func (g *transcript) insmodFails(m string, want Errno) {
	g.t.Helper()
	g.step("insmod "+m+".ko", func() (string, error) {
		err := g.s.Insmod(m)
		wantErrno(g.t, "insmod "+m, err, want)
		return "", err
	})
}

func (g *transcript) echo(data, path string) {
	g.t.Helper()
	g.mustStep(fmt.Sprintf("echo %s > %s", data, path), func() error { return g.s.WriteFile(path, data+"\n") })
}

func (g *transcript) cat(path string) {
	g.t.Helper()
	g.step("cat "+path, func() (string, error) { return g.s.ReadFile(path) })
}

func (g *transcript) sleep(sec float64) {
	g.mustStep(fmt.Sprintf("sleep %g", sec), func() error { g.s.AdvanceSeconds(sec); return nil })
}

func (g *transcript) do(desc string, fn func() error) { g.t.Helper(); g.mustStep(desc, fn) }

// check compares the transcript with testdata/golden/<name>.txt.
func (g *transcript) check(name string) {
	g.t.Helper()
	got := g.b.String()
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		must(g.t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(g.t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		g.t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var a, b string
		if i < len(gl) {
			a = gl[i]
		}
		if i < len(wl) {
			b = wl[i]
		}
		if a != b {
			g.t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test -run TestGolden -update after checking the change)", path, i+1, a, b)
		}
	}
}

// livepatchSample is samples/livepatch/livepatch-sample.c.
func livepatchSample() ModuleSpec {
	return ModuleSpec{Name: "livepatch_sample", Patch: &PatchSpec{Objects: []ObjSpec{{Name: "vmlinux",
		Funcs: []FuncSpec{{Old: "cmdline_proc_show", New: "livepatch_cmdline_proc_show", NewSize: 0x30}}}}}}
}

func TestGolden(t *testing.T) {
	for _, sc := range []struct {
		name string
		run  func(t *testing.T) *transcript
	}{
		{"basic-6.16", goldenBasic("6.16")},
		{"basic-4.16", goldenBasic("4.16")},
		{"basic-4.12", goldenBasic("4.12")},
		{"reverse-6.16", goldenReverse},
		{"force-alarm-6.16", goldenForce},
		{"replace-6.16", goldenReplace},
		{"module-coming-6.16", goldenModuleComing},
		{"prepatch-fail-6.16", goldenPrePatchFail},
		{"rfc-sync-rcu", goldenRFC},
	} {
		t.Run(sc.name, func(t *testing.T) {
			g := sc.run(t)
			if s := g.s; s.Warnings() != 0 && !s.UsedForce() {
				t.Fatalf("scenario %s raised %d warnings", sc.name, s.Warnings())
			}
			g.check(sc.name)
		})
	}
}

// goldenBasic: livepatch-sample with a reader sleeping in
// cmdline_proc_show. 6.16 and 5.1+: the automatic fake signal at 15 s
// unblocks it; 4.16: a manual write to signal; 4.12: no signals exist, so
// the admin stops and continues the reader by hand.
func goldenBasic(prof string) func(t *testing.T) *transcript {
	return func(t *testing.T) *transcript {
		g := newTranscript(t, "livepatch-sample enable and disable; a reader sleeps in cmdline_proc_show", prof)
		s := g.s
		addMods(t, s, livepatchSample())
		g.do("spawn cat:200 (sleeping in cmdline_proc_show), kworker/0:1:201 (idle kthread)", func() error {
			sleeper(t, s, 200, "cat", UserTask, Interruptible, "cmdline_proc_show")
			spawn(t, s, TaskSpec{PID: 201, Comm: "kworker/0:1", Kind: Kthread, State: Interruptible, Stack: frames("kthread", "worker_thread", "schedule")})
			return nil
		})
		g.insmod("livepatch_sample")
		g.cat("/sys/kernel/livepatch/livepatch_sample/transition")
		g.cat("/proc/200/patch_state")
		switch prof {
		case "4.16":
			g.sleep(3)
			g.echo("1", "/sys/kernel/livepatch/livepatch_sample/signal")
			g.sleep(1.5)
		case "4.12":
			g.sleep(3)
			g.do("kill -STOP 200", func() error { return s.Kill(200, "STOP") })
			g.cat("/proc/200/patch_state")
			g.do("kill -CONT 200", func() error { return s.Kill(200, "CONT") })
			g.sleep(1.5)
		default:
			g.sleep(16)
		}
		g.cat("/sys/kernel/livepatch/livepatch_sample/transition")
		g.cat("/proc/200/stack")
		// The restarted read sleeps in the new function now; let it finish
		// so that nothing blocks the unpatching transition.
		g.do("wake cat:200; it returns to user space", func() error {
			if err := s.Wake(200); err != nil {
				return err
			}
			return s.SyscallExit(200)
		})
		g.echo("0", "/sys/kernel/livepatch/livepatch_sample/enabled")
		g.sleep(2)
		g.cat("/sys/kernel/livepatch/livepatch_sample/enabled")
		g.rmmod("livepatch_sample")
		if inTransition(s) || s.ModuleState("livepatch_sample") != ModUnloaded {
			t.Fatal("scenario did not end unloaded")
		}
		return g
	}
}

func goldenReverse(t *testing.T) *transcript {
	g := newTranscript(t, "reversal: patching to unpatching while a D-state task blocks", "6.16")
	s := g.s
	addMods(t, s, withCallbacks(lp("test_klp_callbacks_demo", obj("vmlinux", "livepatch", "cmdline_proc_show"))))
	g.do("spawn dd:300 (uninterruptible in cmdline_proc_show), sh:301 (runnable, in a syscall)", func() error {
		sleeper(t, s, 300, "dd", UserTask, Uninterruptible, "cmdline_proc_show")
		spawn(t, s, TaskSpec{PID: 301, Comm: "sh", State: Runnable, Stack: frames("do_syscall_64")})
		return nil
	})
	g.insmod("test_klp_callbacks_demo")
	g.sleep(2)
	g.do("sh:301 calls cmdline_proc_show", func() error { return s.Call(301, "cmdline_proc_show", 0) })
	g.echo("0", "/sys/kernel/livepatch/test_klp_callbacks_demo/enabled")
	g.cat("/sys/kernel/livepatch/test_klp_callbacks_demo/enabled")
	g.cat("/sys/kernel/livepatch/test_klp_callbacks_demo/transition")
	g.sleep(1)
	g.do("sh:301 returns to user space", func() error { return s.SyscallExit(301) })
	g.sleep(1)
	g.rmmod("test_klp_callbacks_demo")
	return g
}

func goldenForce(t *testing.T) *transcript {
	g := newTranscript(t, "force: a task forced while in cmdline_proc_show then calls the patched meminfo_proc_show", "6.16")
	s := g.s
	addMods(t, s, lp("livepatch_two", obj("vmlinux", "livepatch", "cmdline_proc_show", "meminfo_proc_show")))
	g.do("spawn dd:400 (uninterruptible in cmdline_proc_show)", func() error {
		sleeper(t, s, 400, "dd", UserTask, Uninterruptible, "cmdline_proc_show")
		return nil
	})
	g.insmod("livepatch_two")
	g.sleep(2)
	g.echo("1", "/sys/kernel/livepatch/livepatch_two/force")
	g.sleep(1)
	g.do("wake dd:400; run it on cpu 1", func() error {
		if err := s.Wake(400); err != nil {
			return err
		}
		return s.Run(400, 1)
	})
	g.do("dd:400 returns from schedule", func() error { return s.Return(400) })
	g.do("dd:400 calls meminfo_proc_show", func() error { return s.Call(400, "meminfo_proc_show", 0) })
	g.do("dd:400 returns to user space", func() error { return s.SyscallExit(400) })
	g.echo("0", "/sys/kernel/livepatch/livepatch_two/enabled")
	g.sleep(2)
	g.rmmod("livepatch_two")
	if s.Alarms() != 1 {
		t.Fatalf("alarms = %d, want 1", s.Alarms())
	}
	return g
}

func goldenReplace(t *testing.T) *transcript {
	g := newTranscript(t, "atomic replace over two patches; nops for the functions only the old patches touch", "6.16")
	s := g.s
	addMods(t, s,
		withCallbacks(lp("test_klp_atomic_replace1", obj("vmlinux", "lp1", "cmdline_proc_show"))),
		withCallbacks(lp("test_klp_atomic_replace2", obj("vmlinux", "lp2", "meminfo_proc_show"))),
		withCallbacks(lpReplace("test_klp_atomic_replace3", obj("vmlinux", "lp3", "cmdline_proc_show"))))
	g.insmod("test_klp_atomic_replace1")
	g.sleep(1)
	g.insmod("test_klp_atomic_replace2")
	g.sleep(1)
	g.do("spawn cat:500; it calls meminfo_proc_show (now lp2's) and sleeps (D)", func() error {
		pid := spawn(t, s, TaskSpec{PID: 500, Comm: "cat", State: Runnable, Stack: frames("do_syscall_64", "seq_read")})
		if err := s.Call(pid, "meminfo_proc_show", 0); err != nil {
			return err
		}
		return s.Sleep(pid, true, false)
	})
	g.insmod("test_klp_atomic_replace3")
	g.step("ls /sys/kernel/livepatch/test_klp_atomic_replace3/vmlinux", func() (string, error) { return lsNames(s, lpPath("test_klp_atomic_replace3", "vmlinux")) })
	g.cat("/sys/kernel/livepatch/test_klp_atomic_replace3/stack_order")
	g.sleep(1)
	g.do("wake cat:500; it returns to user space", func() error {
		if err := s.Wake(500); err != nil {
			return err
		}
		return s.SyscallExit(500)
	})
	g.sleep(1)
	g.step("ls /sys/kernel/livepatch", func() (string, error) { return lsNames(s, "/sys/kernel/livepatch") })
	g.step("ls /sys/kernel/livepatch/test_klp_atomic_replace3/vmlinux", func() (string, error) { return lsNames(s, lpPath("test_klp_atomic_replace3", "vmlinux")) })
	g.rmmod("test_klp_atomic_replace1")
	g.rmmod("test_klp_atomic_replace2")
	g.step("rmmod test_klp_atomic_replace3", func() (string, error) {
		err := s.Rmmod("test_klp_atomic_replace3")
		wantErrno(t, "rmmod of the enabled replace patch", err, EBUSY)
		return "", err
	})
	return g
}

func lsNames(s *Sim, p string) (string, error) {
	es, err := s.ReadDir(p)
	var n []string
	for _, e := range es {
		n = append(n, e.Name)
	}
	return strings.Join(n, " "), err
}

func goldenModuleComing(t *testing.T) *transcript {
	g := newTranscript(t, "a target module loads during the patching transition, then unloads", "6.16")
	s := g.s
	addMods(t, s, targetMod("test_klp_callbacks_mod", "test_klp_callbacks_mod_fn"),
		withCallbacks(lp("test_klp_callbacks_demo", obj("vmlinux", "livepatch", "cmdline_proc_show"), obj("test_klp_callbacks_mod", "livepatch", "test_klp_callbacks_mod_fn"))))
	g.do("spawn dd:600 (uninterruptible in cmdline_proc_show), sh:601 (runnable, in a syscall)", func() error {
		sleeper(t, s, 600, "dd", UserTask, Uninterruptible, "cmdline_proc_show")
		spawn(t, s, TaskSpec{PID: 601, Comm: "sh", State: Runnable, Stack: frames("do_syscall_64")})
		return nil
	})
	g.insmod("test_klp_callbacks_demo")
	g.cat("/sys/kernel/livepatch/test_klp_callbacks_demo/test_klp_callbacks_mod/patched")
	g.insmod("test_klp_callbacks_mod")
	g.cat("/sys/kernel/livepatch/test_klp_callbacks_demo/test_klp_callbacks_mod/patched")
	g.do("sh:601 calls test_klp_callbacks_mod_fn", func() error { return s.Call(601, "test_klp_callbacks_mod_fn", 0) })
	g.do("wake dd:600; it calls test_klp_callbacks_mod_fn", func() error {
		if err := s.Wake(600); err != nil {
			return err
		}
		return s.Call(600, "test_klp_callbacks_mod_fn", 0)
	})
	g.do("dd:600 and sh:601 return to user space", func() error {
		if err := s.SyscallExit(600); err != nil {
			return err
		}
		return s.SyscallExit(601)
	})
	g.sleep(1)
	g.rmmod("test_klp_callbacks_mod")
	g.echo("0", "/sys/kernel/livepatch/test_klp_callbacks_demo/enabled")
	g.sleep(1)
	g.rmmod("test_klp_callbacks_demo")
	return g
}

func goldenPrePatchFail(t *testing.T) *transcript {
	g := newTranscript(t, "pre_patch callback of the second object fails (callbacks-4 style)", "6.16")
	s := g.s
	m := lp("test_klp_callbacks_demo", obj("vmlinux", "livepatch", "cmdline_proc_show"), obj("test_klp_callbacks_mod", "livepatch", "test_klp_callbacks_mod_fn"))
	m.Patch.Objects[0].Callbacks = selftestCallbacks(0)
	m.Patch.Objects[1].Callbacks = selftestCallbacks(ENODEV)
	addMods(t, s, targetMod("test_klp_callbacks_mod", "test_klp_callbacks_mod_fn"), m)
	g.insmod("test_klp_callbacks_mod")
	g.insmodFails("test_klp_callbacks_demo", ENODEV)
	g.step("ls /sys/kernel/livepatch", func() (string, error) { return lsNames(s, "/sys/kernel/livepatch") })
	g.rmmod("test_klp_callbacks_mod")
	return g
}

func goldenRFC(t *testing.T) *transcript {
	g := newTranscript(t, "what-if: synchronize_rcu instead of schedule_on_each_cpu; a task where RCU is not watching", "rfc-sync-rcu", withCPUs(4), withNohz(2, 3))
	s := g.s
	addMods(t, s, livepatchSample())
	g.do("spawn entry:700 running on nohz_full cpu 2 inside cmdline_proc_show, RCU not watching", func() error {
		spawn(t, s, TaskSpec{PID: 700, Comm: "entry", State: Running, CPU: 2, NoRCU: true, Stack: frames("do_syscall_64", "cmdline_proc_show")})
		return nil
	})
	g.insmod("livepatch_sample")
	g.sleep(2)
	g.echo("0", "/sys/kernel/livepatch/livepatch_sample/enabled")
	g.sleep(1)
	g.do("entry:700 returns to user space", func() error { return s.SyscallExit(700) })
	g.sleep(1)
	g.rmmod("livepatch_sample")
	if s.View().Hazards == 0 {
		t.Fatal("the RFC scenario must raise a hazard")
	}
	return g
}
