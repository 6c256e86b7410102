package sim

// Patch states of a task (KLP_TRANSITION_IDLE/UNPATCHED/PATCHED, formerly
// KLP_UNDEFINED/KLP_UNPATCHED/KLP_PATCHED).
const (
	Idle      = -1
	Unpatched = 0
	Patched   = 1
)

// TaskKind distinguishes user tasks, kthreads (PF_KTHREAD) and the per-CPU
// idle ("swapper") tasks.
type TaskKind uint8

const (
	UserTask TaskKind = iota
	Kthread
	IdleTask
)

func (k TaskKind) String() string {
	return [...]string{"user", "kthread", "idle"}[k]
}

// TaskState is the scheduler state of a task.
type TaskState uint8

const (
	Running         TaskState = iota // on a CPU
	Runnable                         // on a runqueue, not on a CPU
	Interruptible                    // TASK_INTERRUPTIBLE sleep (S)
	Uninterruptible                  // TASK_UNINTERRUPTIBLE sleep (D)
	Stopped                          // SIGSTOP (T)
	Traced                           // ptrace stop (t)
	Dead
)

var stateNames = [...]string{"running", "runnable", "sleeping", "disk-sleep", "stopped", "traced", "dead"}
var stateLetters = [...]string{"R", "R", "S", "D", "T", "t", "X"}

func (s TaskState) String() string { return stateNames[s] }

// Letter is the one-letter code ps shows.
func (s TaskState) Letter() string { return stateLetters[s] }

// Frame is one entry of a task's kernel stack: a return address inside some
// code, and the function the caller asked for (its old name when the ftrace
// handler redirected the call to a livepatch's replacement).
// It is 12 bytes, so that a sweep over 100,000 16-frame stacks reads
// little memory.
type Frame struct {
	Code   CodeID // what executes there
	Called CodeID // what was called: the original function
	Off    uint32
}

// SymRef names a function by object and name (and sympos, 0 = unique).
type SymRef struct {
	Obj    string // "vmlinux" or a module name
	Name   string
	Sympos int
}

// Task is a thread, a kthread or an idle task.
type Task struct {
	// The fields a sweep reads come first, so that they share one cache
	// line.
	Stack        []Frame
	PatchState   int // Idle, Unpatched, Patched
	CPU          int // CPU it runs on when Running; the idle task's own CPU
	State        TaskState
	Kind         TaskKind
	PatchPending bool // TIF_PATCH_PENDING
	// Unreliable makes stack_trace_save_tsk_reliable() fail for this task
	// (e.g. interrupted in a function prologue).
	Unreliable bool
	InKernel   bool // false: running in user mode (kernel stack empty)
	// Blocked says why the last switch attempt failed ("is running", ...).
	Blocked string

	PID, TGID int
	Comm      string
	Freezable bool // the current sleep is TASK_FREEZABLE
	// NoRCU: the task runs where RCU is not watching (before
	// ct_user_exit, say). Matters only for the RFC what-if.
	NoRCU      bool
	SigPending bool // fake signal (TIF_SIGPENDING / TIF_NOTIFY_SIGNAL)
	// Interrupted holds the call chain of a syscall interrupted by a
	// signal (-ERESTARTSYS), replayed when the syscall restarts.
	Interrupted []CodeID
	SleptIn     TaskState // the sleep to resume after a restart
	StopPending bool      // SIGSTOP received while it could not stop yet
	Ptraced     bool      // attached by a tracer: its stops are ptrace stops (t)
	Parent      int
}

// CPU is one possible CPU.
type CPU struct {
	ID       int
	Online   bool
	NohzFull bool
	Curr     int  // pid of the task on it; 0 = its idle task
	Kicked   bool // wake_up_if_idle sent; the idle loop runs at the next tick
}

// CodeID indexes Sim.code.
type CodeID int32

// NoCode marks an unresolved address.
const NoCode CodeID = -1

// Code is a function's text in vmlinux, a module or a livepatch module.
type Code struct {
	Addr, Size uint64
	Name       string
	Obj        string // owning object: vmlinux or module name
	Sympos     int    // position among same-named symbols of Obj (1-based)
	Dead       bool   // its module was unloaded
	// For a livepatch replacement function: the patch module and the
	// original function it replaces (Obj is then the patch module).
	ForPatch string
}

// ModState is a module's lifecycle state.
type ModState uint8

const (
	ModUnloaded ModState = iota
	ModComing
	ModLive
	ModGoing
)

func (m ModState) String() string {
	return [...]string{"unloaded", "coming", "live", "going"}[m]
}

// ModuleSpec declares a module the scenario can insmod: a target module
// with functions, or a livepatch module (Patch != nil).
type ModuleSpec struct {
	Name  string
	Funcs []FuncDecl
	Patch *PatchSpec
	// Printed (with the module's prefix) when init and exit run.
	InitLog, ExitLog []string
	InitErr          Errno // init returns this error
	NotLivepatch     bool  // for a patch: lacks the livepatch modinfo flag
	// Params are module parameters (/sys/module/<m>/parameters/<p>): an
	// int, or a bool when the default is Y or N.
	Params []Param
	// Uses names functions of other modules this module calls: loading
	// needs them live (else "Unknown symbol", ENOENT), and they cannot be
	// removed while this module is loaded.
	Uses   []string
	Kprobe *KprobeSpec // registered by init, unregistered by exit
	// Program names a test module's init program (ModulePrograms), run
	// after InitLog; its errno fails the load.
	Program string
}

// Param is a module parameter and its default value.
type Param struct {
	Name, Default string
	Type          string // "" (int, or bool for a Y/N default) or one of ParamTypes
}

// FuncDecl declares a function symbol.
type FuncDecl struct {
	Name string
	Size uint64
	// AliasOf makes Name a second symbol for a function declared before
	// it in the same object (one address, two names, as kallsyms lists
	// e.g. a syscall's __x64_sys_ and __se_sys_ names): no code of its own.
	AliasOf string
}

// PatchSpec is the klp_patch a livepatch module registers.
type PatchSpec struct {
	Replace bool
	// Immediate is klp_patch.immediate (v4.12-v4.15): no per-task
	// consistency model; every task runs the new code at once.
	Immediate bool
	// ReplaceParam, if set, names a module parameter that decides
	// Replace at load time (test_klp_atomic_replace's replace=).
	ReplaceParam string
	Objects      []ObjSpec
	States       []StateSpec
	PidCount     *PidCountSpec // test_klp_syscall's npids (modfiles.go)
	Relocs       []RelocSpec   // klp relocations (reloc.go)
}

// ObjSpec is a klp_object: vmlinux or a module, its functions and callbacks.
type ObjSpec struct {
	Name      string // "vmlinux" or module name
	Funcs     []FuncSpec
	Callbacks Callbacks
}

// FuncSpec is a klp_func: the original function and its replacement, which
// lives in the patch module.
type FuncSpec struct {
	Old     string
	Sympos  int
	New     string
	NewSize uint64
	// Prints is what the replacement produces when a file backed by the
	// original is read ({mod} is the patch module's name); "" prints
	// what the original does.
	Prints string
	// Immediate is klp_func.immediate (v4.12-v4.15): the stack check
	// skips this function.
	Immediate bool
}

// Callbacks of one object. A nil entry means the callback is not set.
type Callbacks struct {
	PrePatch, PostPatch, PreUnpatch, PostUnpatch *Callback
}

// Callback says what a callback prints and returns. Lines may contain
// {obj} (the object name) and {state} (the target module's state as the
// selftest modules print it).
type Callback struct {
	Log []CallbackLine
	Ret Errno
	// RetParam, if set, names an int module parameter of the patch module
	// whose value (0 or -errno) the callback returns, as the selftest
	// module's pre_patch_ret does.
	RetParam string
}

// CallbackLine is one printed line, optionally conditional on a system
// state: printed only if the previous patch has (or lacks) state ID.
type CallbackLine struct {
	Text      string
	IfPrev    int // print only if klp_get_prev_state(ID) exists (0 = always)
	IfNotPrev int // print only if it does not
}

// StateSpec is a klp_state.
type StateSpec struct {
	ID, Version int
}

// FuncRef addresses a klp_func inside Sim.patches.
type FuncRef struct{ P, O, F int32 }

// Patch is a klp_patch instance.
type Patch struct {
	Mod       string
	Spec      int // index into Sim.mods of its module
	Replace   bool
	Immediate bool // klp_patch.immediate (v4.12-v4.15)
	Enabled   bool
	Forced    bool
	Listed    bool // on klp_patches
	Freed     bool
	Objs      []Obj
	States    []StateSpec
}

// Obj is a klp_object.
type Obj struct {
	Name       string
	Dynamic    bool // created by atomic replace for nops
	Patched    bool
	Loaded     bool // klp_is_object_loaded
	PrePatchOK bool // callbacks.post_unpatch_enabled
	Callbacks  Callbacks
	Funcs      []Func
}

// Func is a klp_func.
type Func struct {
	Old        string
	Sympos     int
	New        string // replacement symbol in the patch module
	Nop        bool
	Discarded  bool
	Patched    bool
	Transition bool
	Immediate  bool   // klp_func.immediate (v4.12-v4.15): never stack-checked
	OldCode    CodeID // resolved when the object is loaded
	NewCode    CodeID // for a nop: the original function
}

// Ops is the per-original-function ftrace ops with its func_stack.
type Ops struct {
	Orig  CodeID
	Stack []FuncRef // newest first
}
