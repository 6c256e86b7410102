package sim

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"unsafe"
)

// Config describes the simulated machine.
type Config struct {
	Profile Profile
	HZ      int // CONFIG_HZ; default 250
	CPUs    int // possible CPUs; default 4
	// NohzFull lists the nohz_full CPUs; Offline the CPUs that start offline.
	NohzFull, Offline []int
	// NoReliableStacks models an architecture without
	// HAVE_RELIABLE_STACKTRACE.
	NoReliableStacks bool
	Seed             uint64
	// Vmlinux lists the kernel's functions (in link order).
	Vmlinux []FuncDecl
	// LogBufLen is log_buf_len in bytes (DefaultLogBufLen if 0);
	// MaxEvents bounds the event history (DefaultMaxEvents if 0).
	LogBufLen, MaxEvents int
}

// Level is a printk log level.
type Level uint8

// printk levels.
const (
	LevelEmerg Level = iota
	LevelAlert
	LevelCrit
	LevelErr
	LevelWarn
	LevelNotice
	LevelInfo
	LevelDebug
)

var levelNames = [...]string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}

func (l Level) String() string { return levelNames[l] }

// ParseLevel accepts a level name or digit.
func ParseLevel(s string) (Level, bool) {
	for i, n := range levelNames {
		if n == s || fmt.Sprint(i) == s {
			return Level(i), true
		}
	}
	if s == "warning" {
		return LevelWarn, true
	}
	if s == "error" {
		return LevelErr, true
	}
	return 0, false
}

// LogLine is one kernel log record.
type LogLine struct {
	Seq   int
	Time  int64 // nanoseconds since boot
	Level Level
	Text  string // including its prefix, e.g. "livepatch: enabling patch 'x'"
}

// Dmesg formats the line as dmesg prints it.
func (l LogLine) Dmesg() string {
	return fmt.Sprintf("[%5d.%06d] %s", l.Time/1e9, (l.Time%1e9)/1e3, l.Text)
}

// EventKind classifies an Event.
type EventKind string

// Event kinds.
const (
	EvStep     EventKind = "step"     // a kernel function of the transition ran
	EvSwitch   EventKind = "switch"   // a task changed patch_state
	EvSignal   EventKind = "signal"   // fake or real signal, kthread wake-up
	EvTask     EventKind = "task"     // task lifecycle and scheduling
	EvFunc     EventKind = "func"     // func_stack push/pop
	EvCallback EventKind = "callback" // a livepatch callback ran
	EvModule   EventKind = "module"   // module load/unload
	EvSync     EventKind = "sync"     // klp_synchronize_transition / synchronize_rcu
	EvWarning  EventKind = "warning"  // a WARN_ON_ONCE fired
	EvAlarm    EventKind = "alarm"    // the consistency checker caught a mix
	EvHazard   EventKind = "hazard"   // what-if hazard (RFC)
	EvCall     EventKind = "call"     // the ftrace handler chose a version
	EvLog      EventKind = "log"      // the kernel log ring buffer wrapped
	EvWait     EventKind = "wait"     // a wait began or ended (an RCU Tasks grace period)
)

// EventKinds lists every event kind (for validation and completion).
func EventKinds() []EventKind {
	return []EventKind{EvStep, EvSwitch, EvSignal, EvTask, EvFunc, EvCallback, EvModule, EvSync, EvWarning, EvAlarm, EvHazard, EvCall, EvLog, EvWait}
}

// Event is something that happened, as data, for the UI and tests.
type Event struct {
	Seq   int
	Time  int64
	Kind  EventKind
	PID   int    `json:",omitempty"`
	CPU   int    `json:",omitempty"`
	Patch string `json:",omitempty"`
	Func  string `json:",omitempty"`
	Text  string
	// Switch types a switch event: the patch_state change and its cause.
	Switch *Switch `json:",omitempty"`
	// Wait types a wait event: what is waited for, and which end this is.
	Wait *Wait `json:",omitempty"`
	// Ret types the return of a command the shell slept in (writer.go).
	Ret *CmdReturn `json:",omitempty"`
}

// CmdReturn is how a command the declared shell slept in returned.
type CmdReturn struct {
	What  string // insmod, rmmod, write
	Errno string `json:",omitempty"` // the error's name (EINVAL); "" for success
}

// Wait is a wait event's content.
type Wait struct {
	What string // WaitRCUTasks, WaitRCU, WaitTask
	End  bool   // false: the wait begins; true: it ends
}

// What a wait event waits for.
const (
	WaitRCUTasks = "rcu-tasks" // the grace period of an ftrace ops' unregistering
	WaitRCU      = "rcu"       // synchronize_rcu (the RFC profile's klp_synchronize_transition)
	WaitTask     = "task"      // a task asleep in the kernel: the shell in its command, the kworker in a grace period (PID: that task)
)

// SwitchReason names the switch point that changed a task's patch_state.
type SwitchReason string

// Switch reasons. A reversal changes no patch_state (only the pending flags
// and the target), so it has none.
const (
	ReasonStackCheck SwitchReason = "stack check" // klp_try_switch_task: the transition work or a scheduler hook
	ReasonKernelExit SwitchReason = "kernel exit" // exit to user mode (a syscall, the tick, a signal)
	ReasonFakeSignal SwitchReason = "fake signal" // the kernel exit a fake signal caused
	ReasonIdle       SwitchReason = "idle"        // the idle loop, or an offline CPU's idle task
	ReasonForce      SwitchReason = "force"       // klp_force_transition
	ReasonFork       SwitchReason = "fork"        // klp_copy_process
	ReasonComplete   SwitchReason = "complete"    // klp_complete_transition: back to IDLE
)

// Switch is the typed part of a switch event. One event stands for one
// task (Event.PID; idle tasks by Event.CPU) or, for the mass switches, for
// many: PIDs lists the threads one completion attempt switched, and a
// complete event with no PIDs moved every task.
type Switch struct {
	From, To int
	Reason   SwitchReason
	PIDs     []int `json:",omitempty"`
	// Stale: To is a target loaded before a reversal changed it (the
	// cond_resched hook of profile cond-resched-v1, handler.go).
	Stale bool `json:",omitempty"`
}

// Matches reports whether the event concerns text: its text contains it,
// or, for a switch event that lists PIDs, text names ("comm:pid" or "pid")
// one of them. `until switch "cat:42"` and `expect event` use it.
func (e Event) Matches(text string) bool {
	if strings.Contains(e.Text, text) {
		return true
	}
	if e.Switch == nil || text == "" {
		return false
	}
	pid, err := strconv.Atoi(text[strings.LastIndexByte(text, ':')+1:])
	if err != nil {
		return false
	}
	for _, p := range e.Switch.PIDs {
		if p == pid {
			return true
		}
	}
	return false
}

// Ready is what happened since the last call to Sim.Ready.
type Ready struct {
	Log    []LogLine
	Events []Event
	// LogDropped and EventsDropped count what the rings overwrote
	// before this reader saw it (a console prints
	// "** N printk messages dropped **" before the next line).
	LogDropped, EventsDropped int
}

// Module is a module known to the simulator, loaded or not.
type Module struct {
	Spec     ModuleSpec
	State    ModState
	Refcnt   int
	Patch    int // index into patches while loaded, else -1
	Code     []CodeID
	KlpAlive bool
	Base     uint64
	Params   []string // current values, parallel to Spec.Params
	Deps     []int    // modules it holds for Spec.Uses (ref_module), by index
}

// Sim is the simulated kernel. Its zero value is not usable; call New.
type Sim struct {
	prof     Profile
	hz       int
	reliable bool
	seed     uint64
	rng      uint64

	jiffies uint64 // absolute jiffies, starting at INITIAL_JIFFIES
	bootJif uint64
	lat     int64 // ns past the jiffy of what runs now (a text poke's syncs, the kworker's wake-up latency); never goes back within a jiffy

	cpus     []CPU
	tasks    []Task    // for_each_process_thread order
	tidx     taskIndex // finds a task by pid
	gp       gpWait    // klp_complete_transition waiting for RCU Tasks (wait.go)
	noGPWait bool      // while a cancel completes: its grace period passes inside the step (gpInline)
	idle     []Task    // one per possible CPU
	nextPID  int
	forking  []forking // children between dup_task_struct and klp_copy_process
	// tasks between the ftrace handler's reads (handler.go)
	inHandler []handlerCall

	code     []Code
	syms     symtab // index of the live code by object and name
	nextBase uint64

	mods    []Module
	patches []Patch
	list    []int // klp_patches: indexes into patches, oldest first

	ops       []Ops
	opsByCode map[CodeID]int
	opsShared bool // opsByCode is shared with a clone (ownOps)

	transition  int // klp_transition_patch, -1 when none
	target      int // klp_target_state
	signalsCnt  int
	workDue     int64     // jiffy at which klp_transition_work runs; -1 none
	schedHook   bool      // klp_sched_try_switch_key / sched_dynamic_klp
	writer      int       // the shell's task (Shell); 0: none
	cur         int       // the task whose syscall or work runs now (writer, worker), or 0
	worker      int       // the kworker's task (Kworker); 0: none
	shellWait   shellWait // the shell asleep in a command (writer.go)
	forcedEver  bool      // v4.15-v5.0 global klp_forced
	tainted     bool      // TAINT_LIVEPATCH notice printed
	taint       uint64    // other taint bits, written to /proc/sys/kernel/tainted
	ftraceOff   bool      // /proc/sys/kernel/ftrace_enabled = 0
	warned      map[string]bool
	usedForce   bool
	tickWork    bool
	alarms      int
	hazards     int
	syncs       int
	nohzTouched int

	dd     ddState       // dynamic debug flags (dyndbg.go)
	kmsg   kmsgState     // dmesg -C and /dev/kmsg (kmsg.go)
	tracer tracerState   // the function tracer (tracer.go)
	kp     kprobeState   // kprobes (kprobe.go)
	pidcnt pidCountState // pids a pidcount module still waits for (modfiles.go)
	shadow shadowState   // klp_shadow_* variables (shadow.go)

	log      []LogLine // the kernel log ring: the newest records
	events   []Event   // the newest events
	ring     logRing
	readyLog int  // Seq of the next record Ready returns
	readyEv  int  // Seq of the next event Ready returns
	quiet    bool // records dropped (SetQuiet)

	scratch []int32    // per-sweep lookup table; not part of the state
	slowIdx []int32    // per-sweep list of tasks for the full check; ditto
	fastIdx []uint64   // per-sweep list of tasks the first pass switched; ditto
	bufs    *cloneBufs // memory CloneInto reuses; not part of the state
}

// HZ reports CONFIG_HZ.
func (s *Sim) HZ() int { return s.hz }

// Profile reports the kernel profile.
func (s *Sim) Profile() Profile { return s.prof }

const (
	vmlinuxBase = 0xffffffff81000000
	moduleBase  = 0xffffffffc0000000
	moduleSpan  = 0x100000
)

// initialJiffies is INITIAL_JIFFIES on a 64-bit kernel: jiffies wrap 32 bits
// five minutes after boot so that wrap bugs show early.
func initialJiffies(hz int) uint64 {
	return uint64(uint32(int32(-300 * hz)))
}

// New builds a machine with the given configuration.
func New(cfg Config) (*Sim, error) {
	if cfg.Profile.Major == 0 {
		p, _ := ParseProfile(DefaultProfile)
		cfg.Profile = p
	}
	if cfg.HZ == 0 {
		cfg.HZ = 250
	}
	switch cfg.HZ {
	case 100, 250, 300, 1000:
	default:
		return nil, fmt.Errorf("HZ=%d is not a CONFIG_HZ choice (100, 250, 300, 1000)", cfg.HZ)
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = 4
	}
	if cfg.CPUs < 1 || cfg.CPUs > 64 {
		return nil, fmt.Errorf("cpus=%d out of range 1..64", cfg.CPUs)
	}
	s := &Sim{
		prof:       cfg.Profile,
		hz:         cfg.HZ,
		reliable:   !cfg.NoReliableStacks,
		seed:       cfg.Seed,
		rng:        cfg.Seed,
		tidx:       newTaskIndex(),
		gp:         gpWait{Patch: -1},
		opsByCode:  map[CodeID]int{},
		warned:     map[string]bool{},
		transition: -1,
		target:     Idle,
		workDue:    -1,
		nextPID:    100,
		nextBase:   moduleBase,
		ring:       newLogRing(cfg.LogBufLen, cfg.MaxEvents),
	}
	s.jiffies = initialJiffies(cfg.HZ)
	s.bootJif = s.jiffies
	for i := 0; i < cfg.CPUs; i++ {
		s.cpus = append(s.cpus, CPU{ID: i, Online: true})
		s.idle = append(s.idle, Task{PID: 0, Comm: fmt.Sprintf("swapper/%d", i), Kind: IdleTask, State: Running, CPU: i, InKernel: true, PatchState: Idle})
	}
	for _, c := range cfg.NohzFull {
		if c < 0 || c >= cfg.CPUs {
			return nil, fmt.Errorf("nohz_full CPU %d does not exist (cpus=%d)", c, cfg.CPUs)
		}
		if c == 0 {
			return nil, fmt.Errorf("nohz_full CPU 0: the boot CPU is the housekeeping CPU and cannot be nohz_full")
		}
		s.cpus[c].NohzFull = true
	}
	for _, c := range cfg.Offline {
		if c < 0 || c >= cfg.CPUs {
			return nil, fmt.Errorf("offline CPU %d does not exist (cpus=%d)", c, cfg.CPUs)
		}
		if c == 0 {
			return nil, fmt.Errorf("CPU 0 cannot be offline")
		}
		s.cpus[c].Online = false
	}
	if err := s.AddVmlinux(cfg.Vmlinux...); err != nil {
		return nil, err
	}
	return s, nil
}

func checkFuncDecl(f FuncDecl) error {
	if f.Name == "" {
		return fmt.Errorf("function without a name")
	}
	if f.Size == 0 || f.Size > 1<<20 {
		return fmt.Errorf("function %s: size %d out of range 1..1MiB", f.Name, f.Size)
	}
	return nil
}

func align16(n uint64) uint64 { return (n + 15) &^ 15 }

func (s *Sim) addCode(c Code) CodeID {
	c.Sympos = len(s.syms.ids(c.Obj, c.Name)) + 1
	if c.Obj == "vmlinux" {
		s.syms.vmlinuxEnd = max(s.syms.vmlinuxEnd, c.Addr+align16(c.Size))
	}
	s.code = append(s.code, c)
	id := CodeID(len(s.code) - 1)
	s.syms.add(&s.code[id], id)
	return id
}

// Code returns the code table entry.
func (s *Sim) Code(id CodeID) Code { return s.code[id] }

// Now returns the time since boot in nanoseconds.
func (s *Sim) Now() int64 {
	return int64(s.jiffies-s.bootJif)*(1e9/int64(s.hz)) + s.lat
}

// Jiffies returns the absolute jiffies counter.
func (s *Sim) Jiffies() uint64 { return s.jiffies }

// --- log and events -------------------------------------------------------

func (s *Sim) printk(l Level, format string, args ...any) {
	if s.quiet {
		s.printText(l, "") // dropped (appendLog): no text to format
		return
	}
	s.printText(l, fmt.Sprintf(format, args...))
}

// printText is printk of a line already formatted.
func (s *Sim) printText(l Level, text string) {
	s.appendLog(LogLine{Time: s.Now(), Level: l, Text: text})
}

// klp prints with the livepatch pr_fmt prefix.
func (s *Sim) klp(l Level, format string, args ...any) {
	if s.muteLog(l) {
		return // dropped: no prefix to join
	}
	s.printk(l, "livepatch: "+format, args...)
}

// mute reports whether a quiet machine drops an event of kind k, and if
// so counts it as appendEvent does. The hot call sites test it before
// building an event's arguments: boxing them for eventf allocates even
// when nothing is formatted (explore's search steps quietly).
func (s *Sim) mute(k EventKind) bool {
	if s.drops(k) {
		s.ring.evBase++
		return true
	}
	return false
}

// muteLog is mute for a log record.
func (s *Sim) muteLog(l Level) bool {
	if s.quiet {
		s.printText(l, "")
		return true
	}
	return false
}

func (s *Sim) event(e Event) {
	e.Time = s.Now()
	s.appendEvent(e)
}

func (s *Sim) step(format string, args ...any) {
	s.eventf(Event{Kind: EvStep}, format, args...)
}

// eventf records an event whose text is formatted only if it is kept: a
// quiet machine (explore's search) keeps only alarms, warnings and hazards
// (keptQuiet), and formatting the texts it drops was a sixth of its
// allocations.
func (s *Sim) eventf(e Event, format string, args ...any) {
	if !s.drops(e.Kind) {
		e.Text = fmt.Sprintf(format, args...)
	}
	s.event(e)
}

// warnLines are the lines of the WARN_ON and WARN_ON_ONCE sites in
// kernel/livepatch/transition.c as v6.4 to v6.15 have them (seed 000 is
// v6.11's blob; seed 001, v6.4's numbering) and in the current patch.c,
// for the WARNING line. Some kernels' transition.c differs (lineTables).
var warnLines = map[string]int{
	"klp_complete_transition: TIF_PATCH_PENDING still set":                 132,
	"klp_complete_transition: idle TIF_PATCH_PENDING still set":            139,
	"klp_cancel_transition: klp_target_state != KLP_TRANSITION_PATCHED":    167,
	"klp_try_complete_transition: klp_target_state == KLP_TRANSITION_IDLE": 458,
	"klp_start_transition: klp_target_state == KLP_TRANSITION_IDLE":        535,
	"klp_init_transition: klp_target_state != KLP_TRANSITION_IDLE":         581,
	"klp_init_transition: task->patch_state != KLP_TRANSITION_IDLE":        600,
	"klp_init_transition: idle patch_state != KLP_TRANSITION_IDLE":         610,
	"klp_ftrace_handler: patch_state == KLP_TRANSITION_IDLE":               98,
	"klp_unpatch_func: !ops":          137,
	"klp_patch_func: !func->old_func": 165,
	"klp_patch_func: func->patched":   168,
}

// lineTables are the transition.c lines of other kernels, where they were
// checked against the source:
//   - v6.16: "sched,livepatch: Untangle cond_resched() and live-patching"
//     (676e8cf70cb0 as tip merged it, against v6.11's blob) drops 9 lines
//     above klp_complete_transition and 12 more in __klp_sched_try_switch;
//   - v6.0 to v6.3: before the v6.4 series, which added the per-CPU stack
//     entries (2 lines) and, in e3ff7c609f39, static_call.h and the
//     cond_resched block (20) above klp_complete_transition (the series
//     changed klp_check_stack and klp_try_switch_task too, so the later
//     sites are not derived);
//   - v4.15: its own file (the GPL header, immediate patches).
//
// Other kernels, and the sites a table lacks, print the v6.4 lines
// (README, modelling choices).
var lineTables = []struct {
	from, to [2]int // [from, to) as major, minor
	lines    map[string]int
}{
	{[2]int{6, 16}, [2]int{99, 0}, map[string]int{
		"klp_complete_transition: TIF_PATCH_PENDING still set":                 123,
		"klp_complete_transition: idle TIF_PATCH_PENDING still set":            130,
		"klp_cancel_transition: klp_target_state != KLP_TRANSITION_PATCHED":    158,
		"klp_try_complete_transition: klp_target_state == KLP_TRANSITION_IDLE": 437,
		"klp_start_transition: klp_target_state == KLP_TRANSITION_IDLE":        514,
		"klp_init_transition: klp_target_state != KLP_TRANSITION_IDLE":         560,
		"klp_init_transition: task->patch_state != KLP_TRANSITION_IDLE":        579,
		"klp_init_transition: idle patch_state != KLP_TRANSITION_IDLE":         589,
	}},
	{[2]int{6, 0}, [2]int{6, 4}, map[string]int{
		"klp_complete_transition: TIF_PATCH_PENDING still set":              110,
		"klp_complete_transition: idle TIF_PATCH_PENDING still set":         117,
		"klp_cancel_transition: klp_target_state != KLP_TRANSITION_PATCHED": 145,
	}},
	{[2]int{4, 15}, [2]int{4, 16}, map[string]int{
		"klp_complete_transition: TIF_PATCH_PENDING still set":              122,
		"klp_complete_transition: idle TIF_PATCH_PENDING still set":         129,
		"klp_cancel_transition: klp_target_state != KLP_TRANSITION_PATCHED": 167,
	}},
}

// warnLine is the line a WARNING names for a site on this kernel.
func (p Profile) warnLine(site string) (int, bool) {
	for _, t := range lineTables {
		if p.at(t.from[0], t.from[1]) && !p.at(t.to[0], t.to[1]) {
			if l, ok := t.lines[site]; ok {
				return l, true
			}
		}
	}
	l, ok := warnLines[site]
	return l, ok
}

// warnOnce models WARN_ON_ONCE: the first time a site fires, a WARNING
// entry goes to the log and an event is recorded; never a Go panic. pid
// is the task concerned (the event's); the WARNING line names current:
// the shell's task in its syscall, on its CPU. (The kworker is not a task
// here: its warnings name the task concerned, on the CPU it ran on.)
func (s *Sim) warnOnce(site, file, fn string, pid int) {
	cur, cpu := pid, s.callerCPU()
	if s.cur != 0 {
		cur = s.cur
	}
	s.warnOnceOn(site, file, fn, pid, cur, cpu)
}

// warnOnceOn is warnOnce with current given: a task's own code (the
// ftrace handler) warns as itself, on its CPU.
func (s *Sim) warnOnceOn(site, file, fn string, pid, cur, cpu int) {
	s.warnAt(site, file, fn, pid, cur, cpu, true)
}

// warnOn models WARN_ON, which prints at every hit (patch.c's sites).
func (s *Sim) warnOn(site, file, fn string) {
	s.warnAt(site, file, fn, 0, s.cur, s.callerCPU(), false)
}

func (s *Sim) warnAt(site, file, fn string, pid, cur, cpu int, once bool) {
	macro := "WARN_ON: "
	if once {
		macro = "WARN_ON_ONCE: "
	}
	s.event(Event{Kind: EvWarning, PID: pid, Func: fn, Text: macro + site})
	s.ring.warnings++
	if once {
		if s.warned[site] {
			return
		}
		w := make(map[string]bool, len(s.warned)+1) // replaced whole: clones share it
		for k := range s.warned {
			w[k] = true
		}
		w[site] = true
		s.warned = w
	}
	s.printk(LevelWarn, "------------[ cut here ]------------")
	if l, ok := s.prof.warnLine(site); ok {
		file = fmt.Sprintf("%s:%d", file, l)
	}
	s.printk(LevelWarn, "WARNING: CPU: %d PID: %d at %s %s", cpu, cur, file, fn)
}

// Ready returns the log lines and events since the previous call.
func (s *Sim) Ready() Ready {
	lb, eb := s.ring.logBase, s.ring.evBase
	r := Ready{LogDropped: max(0, lb-s.readyLog), EventsDropped: max(0, eb-s.readyEv)}
	from, efrom := max(s.readyLog, lb)-lb, max(s.readyEv, eb)-eb
	r.Log = s.log[from:len(s.log):len(s.log)]
	r.Events = s.events[efrom:len(s.events):len(s.events)]
	s.readyLog, s.readyEv = lb+len(s.log), eb+len(s.events)
	return r
}

// Log returns the kernel log: every record still in the ring buffer
// (all of them until it wraps; see LogBase).
func (s *Sim) Log() []LogLine { return s.log[:len(s.log):len(s.log)] }

// Events returns the events kept: every one until DefaultMaxEvents (or
// Config.MaxEvents) is reached, then the newest (see EventBase).
func (s *Sim) Events() []Event { return s.events[:len(s.events):len(s.events)] }

// Warnings counts WARN_ON_ONCE hits; Alarms consistency-checker alarms.
func (s *Sim) Warnings() int { return s.ring.warnings }

// Alarms counts consistency-checker alarms so far.
func (s *Sim) Alarms() int { return s.alarms }

// UsedForce reports whether a transition was ever forced.
func (s *Sim) UsedForce() bool { return s.usedForce }

// --- randomness -----------------------------------------------------------

// Rand returns the next number of the scenario's seeded splitmix64 stream;
// the same seed gives the same numbers on every architecture.
func (s *Sim) Rand() uint64 {
	s.rng += 0x9e3779b97f4a7c15
	z := s.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// --- snapshots --------------------------------------------------------------

// Clone returns an independent copy of the whole state. The log and event
// history are shared copy-on-append, so a clone costs one copy of the task
// table and little else.
//
// The explore mode clones at every state it reaches, so a clone allocates
// little: what only grows or is replaced whole on change (the code table,
// the ftrace ops' func_stacks, the WARN_ON_ONCE sites) is shared; the
// indexes (symbols, tasks, ops by code) are shared until either side
// changes them; and the many small lists the machine does change in place
// (stacks, module and patch lists) are copied into one allocation per
// type, each cut to its length so that an append copies it out.
func (s *Sim) Clone() *Sim { return s.CloneInto(nil) }

// CloneInto is Clone reusing the memory of dead, a machine its caller
// has finished with (nil: none): the explore mode recycles the states it
// finds already visited, which are most of those it makes. dead must not
// be used afterwards but as the clone; machines cloned from it are not
// affected (nothing of dead's own memory is shared with them).
func (s *Sim) CloneInto(dead *Sim) *Sim {
	s.compactTasks() // walks the tasks
	var bufs *cloneBufs
	c := dead
	if c == nil {
		both := new(struct { // one allocation for the two
			Sim
			cloneBufs
		})
		c, bufs = &both.Sim, &both.cloneBufs
	} else if bufs = c.bufs; bufs == nil {
		bufs = new(cloneBufs)
	}
	// A dead machine's per-sweep scratch is its own: keep it.
	scratch, slowIdx, fastIdx := c.scratch, c.slowIdx, c.fastIdx
	*c = *s
	c.bufs = bufs
	c.scratch, c.slowIdx, c.fastIdx = scratch[:0], slowIdx[:0], fastIdx[:0]
	c.cpus = append(bufs.cpus[:0], s.cpus...)
	bufs.cpus = c.cpus
	var frames, n int
	for _, ts := range [2][]Task{s.tasks, s.idle} {
		for i := range ts {
			frames += len(ts[i].Stack)
			n += len(ts[i].Interrupted)
		}
	}
	fa, ia := newArena(&bufs.frames, frames+len(s.tasks)+len(s.idle)), newArena(&bufs.ids, n)
	// The idle tasks first, then the tasks with room for a fork or two:
	// a search forks in a clone, and appending past a cut capacity copied
	// every task again.
	ni, nt := len(s.idle), len(s.tasks)
	tasks := grow(&bufs.tasks, ni+nt+taskSlack)
	copy(tasks, s.idle)
	copy(tasks[ni:], s.tasks)
	for i := range tasks[:ni+nt] {
		t := &tasks[i]
		t.Stack, t.Interrupted = fa.copyRoom(t.Stack, 1), ia.copy(t.Interrupted)
	}
	c.idle = tasks[:ni:ni]
	c.tasks = tasks[ni : ni+nt]
	s.tidx.shared = true // shared until either side changes it (taskIndex.own)
	c.tidx = s.tidx
	c.forking = cloneSmall(&bufs.forking, s.forking)
	c.inHandler = cloneSmall(&bufs.inHandler, s.inHandler)
	c.gp.Holdouts = cloneSmall(&bufs.holdouts, s.gp.Holdouts)
	// The code table is only appended to, but for the dead flag of an
	// unloaded module's code, which copies it first (unloadCode): share
	// it, with the capacity cut so that appends copy.
	c.code = s.code[:len(s.code):len(s.code)]
	s.code = c.code
	// build the lazy patch-target set before sharing it, or every
	// clone would copy the whole table to build its own
	s.buildPatchTargets()
	c.syms = s.syms.share()
	var codes, params, deps int
	for i := range s.mods {
		codes += len(s.mods[i].Code)
		params += len(s.mods[i].Params)
		deps += len(s.mods[i].Deps)
	}
	ca, pa, da := newArena(&bufs.codes, codes), newArena(&bufs.strs, params), newArena(&bufs.ints, deps)
	c.mods = grow(&bufs.mods, len(s.mods))
	copy(c.mods, s.mods) // Spec is immutable after AddModule
	for i := range c.mods {
		m := &c.mods[i]
		m.Code, m.Params, m.Deps = ca.copy(m.Code), pa.copy(m.Params), da.copy(m.Deps)
	}
	var objs, funcs int
	for i := range s.patches {
		objs += len(s.patches[i].Objs)
		for j := range s.patches[i].Objs {
			funcs += len(s.patches[i].Objs[j].Funcs)
		}
	}
	oa, fna := newArena(&bufs.objs, objs), newArena(&bufs.funcs, funcs)
	c.patches = grow(&bufs.patches, len(s.patches))
	copy(c.patches, s.patches)
	for i := range c.patches {
		p := &c.patches[i]
		p.Objs = oa.copy(p.Objs)
		for j := range p.Objs {
			p.Objs[j].Funcs = fna.copy(p.Objs[j].Funcs)
		}
	}
	c.list = cloneSmall(&bufs.list, s.list)
	// An ops' Stack is replaced whole on a push or a pop (patchFunc,
	// unpatchFunc), never written in place: the stacks are shared.
	c.ops = append(grow(&bufs.ops, len(s.ops))[:0], s.ops...)
	s.opsShared, c.opsShared = true, true // opsByCode: see ownOps
	// warned is replaced whole when a site first fires (warnOnce).
	c.log = s.log[:len(s.log):len(s.log)]
	c.events = s.events[:len(s.events):len(s.events)]
	c.tracer.buf = s.tracer.buf[:len(s.tracer.buf):len(s.tracer.buf)] // appended to
	c.kp.probes = cloneSmall(&bufs.probes, s.kp.probes)               // filtered in place
	return c
}

// Footprint estimates the bytes a clone of the machine holds of its own:
// what CloneInto copies (the machine, its tasks and their stacks, modules,
// patches, ops and small lists) and the records it keeps (an explore
// search keeps only what a state added: ForgetHistory).
// It is computed from lengths and type sizes, so it is the same natively
// and in WebAssembly: the explore mode bounds the memory of the states it
// holds with it. The indexes a clone may come to own (a fork's task map)
// are left out.
func (s *Sim) Footprint() int {
	n := int(unsafe.Sizeof(struct {
		Sim
		cloneBufs
	}{}))
	n += len(s.cpus) * int(unsafe.Sizeof(CPU{}))
	n += (len(s.tasks) + len(s.idle) + taskSlack) * int(unsafe.Sizeof(Task{}))
	for _, ts := range [2][]Task{s.tasks, s.idle} {
		for i := range ts {
			n += (len(ts[i].Stack)+1)*int(unsafe.Sizeof(Frame{})) + len(ts[i].Interrupted)*int(unsafe.Sizeof(CodeID(0)))
		}
	}
	for i := range s.mods {
		m := &s.mods[i]
		n += int(unsafe.Sizeof(*m)) + len(m.Code)*int(unsafe.Sizeof(CodeID(0))) + len(m.Params)*int(unsafe.Sizeof("")) + len(m.Deps)*int(unsafe.Sizeof(0))
	}
	for i := range s.patches {
		n += int(unsafe.Sizeof(s.patches[i]))
		for j := range s.patches[i].Objs {
			n += int(unsafe.Sizeof(s.patches[i].Objs[j])) + len(s.patches[i].Objs[j].Funcs)*int(unsafe.Sizeof(Func{}))
		}
	}
	n += len(s.ops) * int(unsafe.Sizeof(Ops{}))
	n += len(s.forking)*int(unsafe.Sizeof(forking{})) + len(s.inHandler)*int(unsafe.Sizeof(handlerCall{})) +
		(len(s.gp.Holdouts)+len(s.list))*int(unsafe.Sizeof(0)) + len(s.kp.probes)*int(unsafe.Sizeof(kprobe{}))
	n += len(s.events)*int(unsafe.Sizeof(Event{})) + len(s.log)*int(unsafe.Sizeof(LogLine{}))
	return n
}

// cloneBufs is the memory a clone copies the machine's lists into, kept
// so that CloneInto can reuse it. Each Sim has its own.
type cloneBufs struct {
	cpus    []CPU
	tasks   []Task
	frames  []Frame
	ids     []CodeID
	mods    []Module
	codes   []CodeID
	strs    []string
	ints    []int
	patches []Patch
	objs    []Obj
	funcs   []Func
	ops     []Ops
	// the small lists, appended to in place
	forking   []forking
	inHandler []handlerCall
	holdouts  []int
	list      []int
	probes    []kprobe
}

// cloneSmall copies src into *buf's memory (nil for an empty list, as a
// fresh copy would be), with the room it has left for appends.
func cloneSmall[T any](buf *[]T, src []T) []T {
	if len(src) == 0 {
		return (*buf)[:0:cap(*buf)] // nil until the buffer exists
	}
	if cap(*buf) < len(src) {
		*buf = make([]T, len(src), len(src)+2)
	}
	*buf = append((*buf)[:0], src...)
	return *buf
}

// grow returns (*buf)[:n], reallocated when too small.
// taskSlack is the room a clone's task list has to grow in place.
const taskSlack = 2

func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// ownOps makes opsByCode the machine's own before a change: a clone
// shares it with its source until either changes it.
func (s *Sim) ownOps() {
	if s.opsShared {
		s.opsByCode = maps.Clone(s.opsByCode)
		s.opsShared = false
	}
}

// arena hands out copies of lists from one allocation, each cut to its
// length (an append to one copies it out rather than overwrite the next).
type arena[T any] struct{ buf []T }

func newArena[T any](buf *[]T, n int) arena[T] { return arena[T]{grow(buf, n)[:0]} }

func (a *arena[T]) copy(src []T) []T {
	if len(src) == 0 {
		return nil
	}
	n := len(a.buf)
	a.buf = append(a.buf, src...)
	return a.buf[n:len(a.buf):len(a.buf)]
}

// copyRoom is copy with room for n more elements after the copy (a
// stack's next frame): an append then writes in place instead of copying
// the list out. The arena must have been sized for the room.
func (a *arena[T]) copyRoom(src []T, n int) []T {
	at := len(a.buf)
	a.buf = append(a.buf, src...)
	end := len(a.buf)
	a.buf = a.buf[:end+n]
	return a.buf[at : end : end+n]
}

func (t Task) clone() Task {
	t.Stack = append([]Frame(nil), t.Stack...)
	t.Interrupted = append([]CodeID(nil), t.Interrupted...)
	return t
}

// --- lookups -----------------------------------------------------------------

func (s *Sim) task(pid int) *Task {
	if i := s.findTask(pid); i >= 0 {
		return &s.tasks[i]
	}
	return nil
}

func (s *Sim) module(name string) *Module {
	for i := range s.mods {
		if s.mods[i].Spec.Name == name {
			return &s.mods[i]
		}
	}
	return nil
}

func (s *Sim) objLoaded(name string) bool {
	if name == "vmlinux" {
		return true
	}
	m := s.module(name)
	return m != nil && m.KlpAlive
}
