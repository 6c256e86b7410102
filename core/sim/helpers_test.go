package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// testVmlinux is the kernel every test machine boots.
var testVmlinux = []FuncDecl{
	{Name: "do_syscall_64", Size: 0x100},
	{Name: "vfs_read", Size: 0x80},
	{Name: "seq_read", Size: 0x90},
	{Name: "cmdline_proc_show", Size: 0x30},
	{Name: "meminfo_proc_show", Size: 0x200},
	{Name: "uptime_proc_show", Size: 0x60},
	{Name: "version_proc_show", Size: 0x50},
	{Name: "schedule", Size: 0x40},
	{Name: "msleep", Size: 0x40},
	{Name: "worker_thread", Size: 0x100},
	{Name: "kthread", Size: 0x80},
	{Name: "do_idle", Size: 0x80},
}

type cfgOpt func(*Config)

func withCPUs(n int) cfgOpt        { return func(c *Config) { c.CPUs = n } }
func withHZ(hz int) cfgOpt         { return func(c *Config) { c.HZ = hz } }
func withOffline(cs ...int) cfgOpt { return func(c *Config) { c.Offline = cs } }
func withNohz(cs ...int) cfgOpt    { return func(c *Config) { c.NohzFull = cs } }
func noReliable() cfgOpt           { return func(c *Config) { c.NoReliableStacks = true } }

// newSim boots a test machine (2 CPUs, HZ=250 unless told otherwise).
func newSim(t testing.TB, prof string, opts ...cfgOpt) *Sim {
	t.Helper()
	p, err := ParseProfile(prof)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Profile: p, CPUs: 2, Vmlinux: testVmlinux}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErrno checks that err carries the errno want (0: no error).
func wantErrno(t testing.TB, what string, err error, want Errno) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	var got Errno
	if !errors.As(err, &got) || got != want {
		t.Fatalf("%s: error %v, want %s", what, err, want.Name())
	}
}

// --- module specs ------------------------------------------------------------

// obj declares a klp_object replacing funcs; each replacement is named
// "<prefix>_<old>".
func obj(name, prefix string, funcs ...string) ObjSpec {
	o := ObjSpec{Name: name}
	for _, f := range funcs {
		o.Funcs = append(o.Funcs, FuncSpec{Old: f, New: prefix + "_" + f, NewSize: 0x40})
	}
	return o
}

func lp(name string, objs ...ObjSpec) ModuleSpec {
	return ModuleSpec{Name: name, Patch: &PatchSpec{Objects: objs}}
}

func lpReplace(name string, objs ...ObjSpec) ModuleSpec {
	return ModuleSpec{Name: name, Patch: &PatchSpec{Replace: true, Objects: objs}}
}

// withCallbacks sets selftest-style callbacks (test_klp_callbacks_demo) on
// every object of a patch spec.
func withCallbacks(m ModuleSpec) ModuleSpec {
	for i := range m.Patch.Objects {
		m.Patch.Objects[i].Callbacks = selftestCallbacks(0)
	}
	return m
}

// selftestCallbacks prints what test_klp_callbacks_demo prints; preRet is
// what pre_patch returns.
func selftestCallbacks(preRet Errno) Callbacks {
	cb := func(name string, ret Errno) *Callback {
		return &Callback{Log: []CallbackLine{{Text: name + ": {objstate}"}}, Ret: ret}
	}
	return Callbacks{
		PrePatch:    cb("pre_patch_callback", preRet),
		PostPatch:   cb("post_patch_callback", 0),
		PreUnpatch:  cb("pre_unpatch_callback", 0),
		PostUnpatch: cb("post_unpatch_callback", 0),
	}
}

// targetMod is a module some patches target (test_klp_callbacks_mod).
func targetMod(name string, funcs ...string) ModuleSpec {
	m := ModuleSpec{Name: name, InitLog: []string{name + "_init"}, ExitLog: []string{name + "_exit"}}
	for _, f := range funcs {
		m.Funcs = append(m.Funcs, FuncDecl{Name: f, Size: 0x40})
	}
	return m
}

func addMods(t testing.TB, s *Sim, specs ...ModuleSpec) {
	t.Helper()
	for _, m := range specs {
		must(t, s.AddModule(m))
	}
}

// --- tasks -------------------------------------------------------------------

func frames(names ...string) []FrameSpec {
	out := make([]FrameSpec, len(names))
	for i, n := range names {
		out[i] = FrameSpec{Func: n}
	}
	return out
}

func spawn(t testing.TB, s *Sim, ts TaskSpec) int {
	t.Helper()
	pid, err := s.Spawn(ts)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// sleeper spawns a task sleeping inside fn: a user task in a syscall, or a
// kthread in its work loop.
func sleeper(t testing.TB, s *Sim, pid int, comm string, kind TaskKind, st TaskState, fn string) int {
	t.Helper()
	stack := frames("do_syscall_64", "seq_read", fn, "schedule")
	if kind == Kthread {
		stack = frames("kthread", "worker_thread", fn, "msleep", "schedule")
	}
	return spawn(t, s, TaskSpec{PID: pid, Comm: comm, Kind: kind, State: st, Stack: stack})
}

func task(t testing.TB, s *Sim, pid int) Task {
	t.Helper()
	tk, ok := s.Task(pid)
	if !ok {
		t.Fatalf("no task %d", pid)
	}
	return tk
}

// --- log ---------------------------------------------------------------------

func texts(ls []LogLine) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Text
	}
	return out
}

func logTexts(s *Sim) []string { return texts(s.Log()) }

// inOrder checks that every line of want occurs in got, in this order
// (other lines may come in between).
func inOrder(t testing.TB, got []string, want ...string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("line %q missing or out of order in:\n%s", want[i], strings.Join(got, "\n"))
	}
}

func count(got []string, want string) int {
	n := 0
	for _, g := range got {
		if g == want {
			n++
		}
	}
	return n
}

func noLineContaining(t testing.TB, got []string, sub string) {
	t.Helper()
	for _, g := range got {
		if strings.Contains(g, sub) {
			t.Fatalf("unexpected line %q", g)
		}
	}
}

func hasLineContaining(got []string, sub string) bool {
	for _, g := range got {
		if strings.Contains(g, sub) {
			return true
		}
	}
	return false
}

// eventIndex returns the index of the first event of kind whose text
// starts with prefix, or -1.
func eventIndex(evs []Event, kind EventKind, prefix string) int {
	for i, e := range evs {
		if e.Kind == kind && strings.HasPrefix(e.Text, prefix) {
			return i
		}
	}
	return -1
}

// eventContaining is eventIndex for an event whose text contains sub.
func eventContaining(evs []Event, kind EventKind, sub string) int {
	for i, e := range evs {
		if e.Kind == kind && strings.Contains(e.Text, sub) {
			return i
		}
	}
	return -1
}

func eventsOf(evs []Event, kind EventKind) []Event {
	var out []Event
	for _, e := range evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// logTime returns the time of the first log line equal to text, or -1.
// logTime is when the line was logged, to the jiffy (the kworker's
// latency past the tick, TestKworkerLatency's subject, left out).
func logTime(s *Sim, text string) int64 {
	for _, l := range s.Log() {
		if l.Text == text {
			return l.Time - l.Time%(1e9/int64(s.hz))
		}
	}
	return -1
}

// read reads a sysfs/procfs file and fails the test on error.
func read(t testing.TB, s *Sim, p string) string {
	t.Helper()
	v, err := s.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return v
}

func lpPath(patch string, rest ...string) string {
	return "/sys/kernel/livepatch/" + strings.Join(append([]string{patch}, rest...), "/")
}

func inTransition(s *Sim) bool {
	n, _ := s.InTransition()
	return n != ""
}

// stateOK checks the per-task invariants of the transition model:
// outside a transition every task (threads and idle tasks) is IDLE and not
// pending; during one, every task is UNPATCHED or PATCHED and pending
// exactly when it is not in the target state.
func stateOK(s *Sim) error {
	s.compactTasks()
	check := func(tk *Task) error {
		// an immediate patch's transition (v4.12-v4.15) never leaves IDLE
		if s.transition < 0 || s.immediateTransition() {
			if tk.PatchState != Idle || tk.PatchPending {
				return fmt.Errorf("%s:%d: patch_state %d pending %v with no transition", tk.Comm, tk.PID, tk.PatchState, tk.PatchPending)
			}
			return nil
		}
		if tk.PatchState != Unpatched && tk.PatchState != Patched {
			return fmt.Errorf("%s:%d: patch_state %d during a transition", tk.Comm, tk.PID, tk.PatchState)
		}
		if tk.PatchPending != (tk.PatchState != s.target) {
			return fmt.Errorf("%s:%d: patch_state %d pending %v, target %d", tk.Comm, tk.PID, tk.PatchState, tk.PatchPending, s.target)
		}
		return nil
	}
	for i := range s.tasks {
		if err := check(&s.tasks[i]); err != nil {
			return err
		}
	}
	for i := range s.idle {
		if err := check(&s.idle[i]); err != nil {
			return err
		}
	}
	return nil
}

// settle lets a transition that nothing blocks finish (idle CPUs are
// kicked or pass their housekeeping wake-up; the retry comes within 2 s).
func settle(t testing.TB, s *Sim) {
	t.Helper()
	if !s.RunUntilSettled(uint64(3 * s.HZ())) {
		p, _ := s.InTransition()
		t.Fatalf("transition of %s did not settle", p)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// livepatchSample is samples/livepatch/livepatch-sample.c.
func livepatchSample() ModuleSpec {
	return ModuleSpec{Name: "livepatch_sample", Patch: &PatchSpec{Objects: []ObjSpec{{Name: "vmlinux",
		Funcs: []FuncSpec{{Old: "cmdline_proc_show", New: "livepatch_cmdline_proc_show", NewSize: 0x30}}}}}}
}

// TestKworkerLatency: the transition work's lines come 10–100 µs after
// its tick, the same for the same seed, different for another.
func TestKworkerLatency(t *testing.T) {
	lats := func(seed uint64) []int64 {
		s, err := New(Config{Vmlinux: testVmlinux, CPUs: 2, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
		sleeper(t, s, 200, "cat", UserTask, Uninterruptible, "cmdline_proc_show")
		must(t, s.Insmod("lp"))
		s.AdvanceSeconds(5)
		var out []int64
		for _, l := range s.Log() {
			if l.Time == 0 {
				continue // insmod's own attempt runs in the shell, at the tick
			}
			lat := l.Time % (1e9 / int64(s.hz))
			if lat < 10_000 || lat > 100_000 {
				t.Fatalf("seed %d: %q at %d ns: %d ns past the tick", seed, l.Text, l.Time, lat)
			}
			out = append(out, lat)
		}
		if len(out) < 5 {
			t.Fatalf("seed %d: only %d retry lines", seed, len(out))
		}
		return out
	}
	a, b, c := lats(1), lats(1), lats(2)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different latencies")
	}
	if slices.Equal(a, c) {
		t.Error("two seeds gave the same latencies")
	}
}
