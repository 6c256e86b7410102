package sim

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The property test's size: `go test ./core/sim -run TestPropertyRandomEvents
// -args -seeds=N -steps=M`, or KLP_PROP_SEEDS and KLP_PROP_STEPS in the
// environment (what `make soak` sets). -seed-base moves the window of
// seeds, so long runs can be split and a failing seed rerun alone.
var (
	propSeeds    = flag.Int("seeds", envInt("KLP_PROP_SEEDS", 6), "random-event seeds per profile")
	propSteps    = flag.Int("steps", envInt("KLP_PROP_STEPS", 300), "actions per random-event run")
	propSeedBase = flag.Int("seed-base", envInt("KLP_PROP_SEED_BASE", 1), "first random-event seed")
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// Random-event property tests. A byte stream is decoded into simulator
// actions (the same decoder serves FuzzEvents); after every action the
// invariants of the consistency model are checked.

var propProfiles = []string{"4.12", "4.15", "4.16", "5.1", "5.16", "6.4", "6.16", "rfc-sync-rcu", "cond-resched-v1"}

// propWorlds adds variants of the world: "+immediate" has an immediate
// patch and an immediate function (v4.12-v4.15), where alarms are the
// point and not a failure. (FuzzEvents picks from propProfiles alone, so
// that its corpus keeps meaning what it meant.)
var propWorlds = append(append([]string(nil), propProfiles...), "4.15+immediate")

// world is a small machine: 3 CPUs, a target module, three livepatches
// and a handful of user tasks and kthreads.
type world struct {
	s         *Sim
	force     bool // force writes are part of the action set
	immediate bool // an immediate patch and function: mixes are expected
	mods      []string
	patches   []string
	funcs     []string
	trace     []string
	roles     bool // pids 150 (the shell) and 151 (the kworker): not picked
	// the time and Seq of the last log line and event checked: the
	// timestamps never go back
	logT, evT     int64
	logSeq, evSeq int
}

func newWorld(tb testing.TB, prof string, force bool) *world {
	tb.Helper()
	prof, variant, _ := strings.Cut(prof, "+")
	p, err := ParseProfile(prof)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Config{Profile: p, CPUs: 3, Vmlinux: testVmlinux, Seed: 7}
	if p.TaskCallFunc() {
		// Before v5.16 nothing kicks an idle nohz_full CPU, so its idle
		// task would block every transition (see time.go).
		cfg.NohzFull = []int{2}
	}
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	w := &world{s: s, force: force, immediate: variant == "immediate", logSeq: -1, evSeq: -1}
	a := lp("lpa", obj("vmlinux", "lpa", "cmdline_proc_show", "meminfo_proc_show"), obj("tmod", "lpa", "tmod_a"))
	if p.Callbacks() {
		a = withCallbacks(a)
	}
	b := lp("lpb", obj("vmlinux", "lpb", "meminfo_proc_show", "uptime_proc_show"), obj("tmod", "lpb", "tmod_b"))
	c := lp("lpc", obj("vmlinux", "lpc", "version_proc_show"))
	if p.AtomicReplace() {
		c = lpReplace("lpc", obj("vmlinux", "lpc", "cmdline_proc_show"))
	}
	if w.immediate {
		c = lp("lpc", obj("vmlinux", "lpc", "cmdline_proc_show", "version_proc_show"))
		c.Patch.Immediate = true
		b.Patch.Objects[0].Funcs[1].Immediate = true // lpb's uptime_proc_show
	}
	for _, m := range []ModuleSpec{targetMod("tmod", "tmod_a", "tmod_b"), a, b, c} {
		if err := s.AddModule(m); err != nil {
			tb.Fatal(err)
		}
		w.mods = append(w.mods, m.Name)
		if m.Patch != nil {
			w.patches = append(w.patches, m.Name)
		}
	}
	w.funcs = []string{"cmdline_proc_show", "meminfo_proc_show", "uptime_proc_show", "version_proc_show", "seq_read", "schedule", "tmod_a", "tmod_b"}
	for _, ts := range []TaskSpec{
		{PID: 100, Comm: "spin", State: Running, CPU: 1, User: true},
		{PID: 101, Comm: "cat", State: Interruptible, Stack: frames("do_syscall_64", "seq_read", "cmdline_proc_show", "schedule")},
		{PID: 102, Comm: "sh", State: Runnable, Stack: frames("do_syscall_64")},
		{PID: 110, Comm: "kworker/0:1", Kind: Kthread, State: Interruptible, Stack: frames("kthread", "worker_thread", "schedule")},
		{PID: 111, Comm: "kbusy", Kind: Kthread, State: Runnable, Stack: frames("kthread", "worker_thread", "meminfo_proc_show")},
	} {
		if _, err := s.Spawn(ts); err != nil {
			tb.Fatal(err)
		}
	}
	return w
}

// withRoles makes sh:102 run the shell's commands and kworker/0:1 the
// transition work, so that their waits (writer.go, kworker.go) are in the
// run.
// The random actions leave them alone (a shell put to sleep by hand would
// refuse every command of the run).
func (w *world) withRoles(tb testing.TB) *world {
	for _, ts := range []TaskSpec{
		{PID: 150, Comm: "bash", State: Runnable, User: true},
		{PID: 151, Comm: "kworker/1:1", Kind: Kthread, State: Interruptible, Stack: frames("kthread", "worker_thread", "schedule")},
	} {
		if _, err := w.s.Spawn(ts); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.s.Step(Shell{PID: 150}); err != nil {
		tb.Fatal(err)
	}
	if err := w.s.Step(Kworker{PID: 151}); err != nil {
		tb.Fatal(err)
	}
	w.roles = true
	return w
}

func (w *world) pick(a byte) (int, bool) {
	pids := w.s.PIDs()
	if w.roles {
		pids = slices.DeleteFunc(pids, func(p int) bool { return p == 150 || p == 151 })
	}
	if len(pids) == 0 {
		return 0, false
	}
	return pids[int(a)%len(pids)], true
}

const maxTasks = 14

// numOps is the size of the action set apply decodes.
const numOps = 22

// apply performs action op with arguments a and b and returns what it did.
// Errors the API returns for impossible actions are part of the behaviour
// (and are recorded); the simulator must stay consistent after them.
func (w *world) apply(op, a, b byte) string {
	s := w.s
	res := func(desc string, err error) string {
		if err != nil {
			return desc + ": " + err.Error()
		}
		return desc
	}
	pid, ok := w.pick(a)
	switch int(op) % numOps {
	case 0:
		m := w.mods[int(a)%len(w.mods)]
		return res("insmod "+m, s.Insmod(m))
	case 1:
		m := w.mods[int(a)%len(w.mods)]
		return res("rmmod "+m, s.Rmmod(m))
	case 2, 3:
		p := w.patches[int(a)%len(w.patches)]
		v := fmt.Sprint(b & 1)
		return res("echo "+v+" > "+p+"/enabled", s.WriteFile(lpPath(p, "enabled"), v+"\n"))
	case 4:
		if !w.force {
			return "force (not in this run)"
		}
		p := w.patches[int(a)%len(w.patches)]
		return res("echo 1 > "+p+"/force", s.WriteFile(lpPath(p, "force"), "1\n"))
	case 5:
		p := w.patches[int(a)%len(w.patches)]
		return res("echo 1 > "+p+"/signal", s.WriteFile(lpPath(p, "signal"), "1\n"))
	case 6, 7:
		if !ok {
			return "call: no task"
		}
		f := w.funcs[int(b)%len(w.funcs)]
		if op == 7 && b&0x80 != 0 {
			// the ftrace handler stops between its reads (handler.go)
			after := b&0x40 != 0
			return res(fmt.Sprintf("%d calls %s split (after transition: %v)", pid, f, after), s.Step(CallBegin{PID: pid, Func: f, AfterTransition: after}))
		}
		return res(fmt.Sprintf("%d calls %s", pid, f), s.Call(pid, f, uint64(b>>4)))
	case 8:
		if !ok {
			return "return: no task"
		}
		return res(fmt.Sprintf("%d returns", pid), s.Return(pid))
	case 9:
		if !ok {
			return "sleep: no task"
		}
		return res(fmt.Sprintf("%d sleeps D=%v freezable=%v", pid, b&1 != 0, b&2 != 0), s.Sleep(pid, b&1 != 0, b&2 != 0))
	case 10:
		if !ok {
			return "wake: no task"
		}
		return res(fmt.Sprintf("wake %d", pid), s.Wake(pid))
	case 11:
		if !ok {
			return "run: no task"
		}
		c := int(b) % 3
		return res(fmt.Sprintf("run %d on cpu %d", pid, c), s.Run(pid, c))
	case 12:
		if !ok {
			return "sysret: no task"
		}
		return res(fmt.Sprintf("sysret %d", pid), s.SyscallExit(pid))
	case 13:
		if !ok {
			return "syscall: no task"
		}
		return res(fmt.Sprintf("syscall %d", pid), s.SyscallEnter(pid))
	case 14:
		if !ok || len(s.PIDs()) >= maxTasks {
			return "fork: skipped"
		}
		c, err := s.Fork(pid, 0, "", b&1 != 0)
		return res(fmt.Sprintf("fork %d -> %d", pid, c), err)
	case 15:
		if !ok || len(s.PIDs()) <= 2 {
			return "exit: skipped"
		}
		return res(fmt.Sprintf("exit %d", pid), s.Exit(pid))
	case 16:
		if !ok {
			return "kill: no task"
		}
		sig := []string{"STOP", "CONT", "CONT", "TERM"}[b%4]
		return res(fmt.Sprintf("kill -%s %d", sig, pid), s.Kill(pid, sig))
	case 17:
		c := 1 + int(a)%2
		on := b&1 != 0
		return res(fmt.Sprintf("cpu %d online=%v", c, on), s.SetCPUOnline(c, on))
	case 18:
		n := uint64(b%64) + 1
		if a&1 != 0 {
			n = uint64(b%20+1) * uint64(s.HZ())
		}
		s.Advance(n)
		return fmt.Sprintf("advance %d jiffies", n)
	case 19:
		if !ok {
			return "cond_resched: no task"
		}
		if b%4 == 0 {
			// the hook's loads now, its stack check later (or at the next
			// synchronisation)
			return res(fmt.Sprintf("cond_resched %d split", pid), s.Step(CondResched{PID: pid, Split: true}))
		}
		return res(fmt.Sprintf("cond_resched %d", pid), s.CondResched(pid))
	case 20:
		if len(s.PIDs()) >= maxTasks {
			return "spawn: skipped"
		}
		ts := TaskSpec{Comm: "new", State: Runnable, Stack: frames("do_syscall_64")}
		if b&1 != 0 {
			// Declared frames bypass the ftrace handler, so a new task
			// only gets frames of functions no patch touches; it reaches
			// patched code through Call, which picks the right version.
			ts = TaskSpec{Comm: "knew", Kind: Kthread, State: Interruptible, Stack: frames("kthread", "worker_thread")}
		}
		p, err := s.Spawn(ts)
		return res(fmt.Sprintf("spawn %s %d", ts.Comm, p), err)
	default:
		if !ok {
			return "odd: no task"
		}
		switch b % 7 {
		case 0:
			return res(fmt.Sprintf("unreliable %d=%v", pid, a&1 != 0), s.SetUnreliable(pid, a&1 != 0))
		case 1:
			p := w.patches[int(a)%len(w.patches)]
			return res("echo bogus > "+p+"/enabled", s.WriteFile(lpPath(p, "enabled"), "bogus\n"))
		case 2:
			p := w.patches[int(a)%len(w.patches)]
			return res("echo 1 > "+p+"/transition", s.WriteFile(lpPath(p, "transition"), "1\n"))
		case 3:
			_, err := s.ReadFile(fmt.Sprintf("/proc/%d/stack", pid))
			return res(fmt.Sprintf("cat /proc/%d/stack", pid), err)
		case 4:
			p := w.patches[int(a)%len(w.patches)]
			_, err := s.ReadFile(lpPath(p, "stack_order"))
			return res("cat "+p+"/stack_order", err)
		case 5:
			return res(fmt.Sprintf("call-finish %d", pid), s.Step(CallFinish{PID: pid}))
		default:
			return res(fmt.Sprintf("ptrace %d", pid), s.Trace(pid, a&1 != 0))
		}
	}
}

// knownRace reports whether the machine went through a race the kernel
// had before a fix, which may mix code: in the cond_resched series' first
// version, a hook that stored a target loaded before a reversal.
func knownRace(s *Sim) bool {
	if !s.prof.CondReschedV1 {
		return false
	}
	for _, e := range s.Events() {
		if e.Kind == EvSwitch && e.Switch != nil && e.Switch.Stale {
			return true
		}
	}
	return false
}

// check verifies the invariants that hold after every action.
func (w *world) check() error {
	s := w.s
	if s.Warnings() != 0 && !s.UsedForce() {
		for _, e := range s.Events() {
			if e.Kind == EvWarning {
				return fmt.Errorf("WARN without force: %s", e.Text)
			}
		}
	}
	if s.Alarms() != 0 && !s.UsedForce() && !knownRace(s) && !w.immediate {
		return fmt.Errorf("consistency alarm without force")
	}
	// time never goes back: not in the log (printk's timestamps), not in
	// the events
	if err := onward("log line", s.Log(), func(l LogLine) (int, int64, string) { return l.Seq, l.Time, l.Text }, &w.logSeq, &w.logT); err != nil {
		return err
	}
	if err := onward("event", s.Events(), func(e Event) (int, int64, string) { return e.Seq, e.Time, e.Text }, &w.evSeq, &w.evT); err != nil {
		return err
	}
	v := s.View()
	n := 0
	for _, p := range v.Patches {
		if p.Transition {
			n++
			if name, _ := s.InTransition(); name != p.Name {
				return fmt.Errorf("patch %s in transition, InTransition says %q", p.Name, name)
			}
		}
		if got, err := s.ReadFile(lpPath(p.Name, "transition")); err != nil || got != fmt.Sprintf("%d\n", b2i(p.Transition)) {
			return fmt.Errorf("%s/transition = %q, %v", p.Name, got, err)
		}
	}
	if n > 1 {
		return fmt.Errorf("%d patches in transition", n)
	}
	if (n == 1) != inTransition(s) {
		return fmt.Errorf("transition patch not on the list")
	}
	for _, m := range v.Modules {
		if m.Refcnt < 0 {
			return fmt.Errorf("module %s refcnt %d", m.Name, m.Refcnt)
		}
	}
	return stateOK(s)
}

// onward checks the records after *seq: none is earlier than the one
// before it.
func onward[T any](what string, recs []T, get func(T) (int, int64, string), seq *int, last *int64) error {
	for _, r := range recs {
		n, t, text := get(r)
		if n <= *seq {
			continue
		}
		if t < *last {
			return fmt.Errorf("%s %d at %d ns, after one at %d: %s", what, n, t, *last, text)
		}
		*seq, *last = n, t
	}
	return nil
}

// drain lets every task reach a switch point: stopped tasks continue,
// sleepers wake, user tasks return to user space, kthreads return from all
// their frames (with a reliable stack) and go to sleep. Then, within 70
// seconds, every transition must complete.
func (w *world) drain() error {
	s := w.s
	for _, n := range s.Pending() {
		switch in := n.Input.(type) {
		case CallFinish, CondReschedFinish:
			if err := s.Step(in); err != nil {
				return fmt.Errorf("drain: %v", err)
			}
		}
	}
	for round := 0; round < 4; round++ {
		// the shell or the kworker asleep in a grace period wakes when
		// its holdouts are quiescent: after the first round
		if round > 0 && (s.ShellWaiting() != "" || s.gp.Patch >= 0) {
			s.RunUntilUnlocked(uint64(70 * s.HZ()))
		}
		for _, pid := range s.PIDs() {
			if s.inKernelWait(pid) {
				continue // the grace period's end wakes it (next round)
			}
			tk, _ := s.Task(pid)
			switch tk.State {
			case Stopped:
				_ = s.Kill(pid, "CONT")
			case Traced:
				_ = s.Trace(pid, false)
			}
			tk, _ = s.Task(pid)
			if tk.State == Interruptible || tk.State == Uninterruptible {
				_ = s.Wake(pid)
			}
			if tk.Kind == UserTask {
				_ = s.SyscallExit(pid)
				continue
			}
			_ = s.SetUnreliable(pid, false)
			for len(tk.Stack) > 0 {
				if err := s.Return(pid); err != nil {
					return fmt.Errorf("drain: %v", err)
				}
				tk, _ = s.Task(pid)
			}
			_ = s.Sleep(pid, false, false)
		}
	}
	for _, pid := range s.PIDs() {
		tk, _ := s.Task(pid)
		if tk.Kind == UserTask && (tk.InKernel || tk.State == Stopped) || tk.Kind == Kthread && (len(tk.Stack) > 0 || tk.State != Interruptible) {
			return fmt.Errorf("drain left %s:%d %s in-kernel=%v stack=%d", tk.Comm, pid, tk.State, tk.InKernel, len(tk.Stack))
		}
	}
	s.AdvanceSeconds(70)
	if p, _ := s.InTransition(); p != "" {
		return fmt.Errorf("transition of %s still running 70 s after every task could switch", p)
	}
	return w.check()
}

// runOps decodes data (3 bytes per action) and checks the invariants
// after each action; then drains. It returns the transcript for the
// determinism check.
func runOps(tb testing.TB, prof string, force bool, data []byte) string {
	tb.Helper()
	w := newWorld(tb, prof, force)
	if len(data) > 1 && data[1]&0x40 != 0 {
		w.withRoles(tb) // in about half the runs
	}
	fail := func(err error) {
		tb.Helper()
		tail := w.trace
		if len(tail) > 25 {
			tail = tail[len(tail)-25:]
		}
		if path := os.Getenv("KLP_PROP_DUMP"); path != "" {
			// the whole run, to read a failure's history
			var b strings.Builder
			for _, e := range w.s.Events() {
				fmt.Fprintf(&b, "%d %d %s pid=%d cpu=%d %s %s %s\n", e.Seq, e.Time, e.Kind, e.PID, e.CPU, e.Patch, e.Func, e.Text)
			}
			b.WriteString(strings.Join(w.trace, "\n"))
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				tb.Log(err)
			}
		}
		var evs []string
		for _, e := range w.s.Events() {
			if e.Kind == EvAlarm || e.Kind == EvWarning {
				evs = append(evs, fmt.Sprintf("%s pid %d %s: %s", e.Kind, e.PID, e.Func, e.Text))
			}
		}
		tb.Fatalf("profile %s force=%v after %d actions: %v\nalarms and warnings:\n  %s\nlast actions:\n  %s", prof, force, len(w.trace), err, strings.Join(evs, "\n  "), strings.Join(tail, "\n  "))
	}
	for i := 0; i+2 < len(data); i += 3 {
		w.trace = append(w.trace, w.apply(data[i], data[i+1], data[i+2]))
		if err := w.check(); err != nil {
			fail(err)
		}
	}
	if err := w.drain(); err != nil {
		fail(err)
	}
	var b strings.Builder
	for _, l := range w.s.Log() {
		fmt.Fprintf(&b, "%s %s\n", l.Level, l.Dmesg())
	}
	for _, e := range w.s.Events() {
		fmt.Fprintf(&b, "%d %d %s %d %d %s %s %s\n", e.Seq, e.Time, e.Kind, e.PID, e.CPU, e.Patch, e.Func, e.Text)
	}
	b.WriteString(strings.Join(w.trace, "\n"))
	return b.String()
}

// splitmix64 is the test's own deterministic generator.
type splitmix64 uint64

func (x *splitmix64) next() uint64 {
	*x += 0x9e3779b97f4a7c15
	z := uint64(*x)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// randomOps makes n actions. Advances are kept rarer than the rest, so a
// run covers many actions per simulated second.
func randomOps(seed uint64, n int) []byte {
	r := splitmix64(seed)
	out := make([]byte, 0, 3*n)
	for i := 0; i < n; i++ {
		v := r.next()
		op := byte(v % numOps)
		if op == 18 && v>>8%3 != 0 {
			op = byte(v>>16) % 18 // re-roll most advances
		}
		out = append(out, op, byte(v>>24), byte(v>>32))
	}
	return out
}

func TestPropertyRandomEvents(t *testing.T) {
	seeds, steps := uint64(*propSeeds), *propSteps
	base := uint64(*propSeedBase)
	// KLP_PROP_DIGEST=FILE writes one line per run (profile, seed, a hash
	// of its log, events and actions), so that `make soak` can compare a
	// native run with a WebAssembly one.
	var digest []string
	if path := os.Getenv("KLP_PROP_DIGEST"); path != "" {
		defer func() {
			if err := os.WriteFile(path, []byte(strings.Join(digest, "")), 0o644); err != nil {
				t.Error(err)
			}
		}()
	}
	for _, prof := range propWorlds {
		for seed := base; seed < base+seeds; seed++ {
			force := seed%2 == 0
			t.Run(fmt.Sprintf("%s/seed=%d", prof, seed), func(t *testing.T) {
				ops := randomOps(seed*1000+uint64(len(prof)), steps)
				a := runOps(t, prof, force, ops)
				b := runOps(t, prof, force, ops)
				if a != b {
					t.Fatal("the same seed gave a different log or event stream")
				}
				digest = append(digest, fmt.Sprintf("%s seed=%d steps=%d %x\n", prof, seed, steps, sha256.Sum256([]byte(a))))
				if !strings.Contains(a, "livepatch: enabling patch") {
					t.Fatal("the random run never enabled a patch; the generator is too weak")
				}
			})
		}
	}
}

// The checks must be able to fail: a state with a pending task in the
// target state, or a stray WARN, is reported.
func TestPropertyChecksCanFail(t *testing.T) {
	w := newWorld(t, "6.16", false)
	must(t, w.s.Insmod("lpa"))
	w.s.compactTasks()
	w.s.tasks[0].PatchPending = true
	w.s.tasks[0].PatchState = w.s.target
	if w.check() == nil {
		t.Fatal("pending task in the target state not caught")
	}
	w = newWorld(t, "6.16", false)
	w.s.warnOnce("test", "x.c", "f", 0)
	if w.check() == nil {
		t.Fatal("warning without force not caught")
	}
	w = newWorld(t, "6.16", false)
	must(t, w.s.Insmod("lpa"))
	must(t, w.s.SetUnreliable(110, true))
	// 110 stays unreliable if drain does not fix it; drain does, so the
	// transition must finish.
	if err := w.drain(); err != nil {
		t.Fatal(err)
	}
}
