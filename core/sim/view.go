package sim

import "strconv"

// View is a compact, stable, serialisable picture of the whole state, for
// the browser bridge and the UI. Field names are part of the bridge's
// contract: change them only together with web/.
type View struct {
	Profile     string
	StateNames  map[string]string // "-1","0","1" -> KLP_* names of this profile
	Differences []string
	HZ          int
	Jiffies     uint64
	Time        int64 // ns since boot
	Seed        uint64
	CPUs        []CPUView
	Tasks       []TaskView // threads in for_each_process_thread order, then idle tasks
	Modules     []ModuleView
	Patches     []PatchView // klp_patches order
	FuncStacks  []FuncStackView
	Transition  *TransitionView `json:",omitempty"`
	Warnings    int
	Alarms      int
	Hazards     int
	Syncs       int
	NohzTouched int // nohz_full CPU disturbances by synchronisation so far
	Reliable    bool
	// CondReschedHook: cond_resched() tries to switch a pending caller now
	// (a v6.4–v6.15 profile, and a transition has enabled the hook).
	CondReschedHook bool
}

// CPUView is one CPU.
type CPUView struct {
	ID       int
	Online   bool
	NohzFull bool
	Curr     int    // pid on it, 0 = idle
	CurrComm string // comm of that task ("swapper/N" when idle)
}

// TaskView is one task.
type TaskView struct {
	PID, TGID  int
	Comm       string
	Kind       string // user, kthread, idle
	State      string // running, runnable, sleeping, disk-sleep, stopped, traced
	Letter     string // ps state letter
	CPU        int    // for running and idle tasks, else -1
	InKernel   bool
	Freezable  bool
	PatchState int
	Pending    bool // TIF_PATCH_PENDING
	Signal     bool // fake signal pending
	Unreliable bool
	NoRCU      bool
	Blocked    string `json:",omitempty"` // why the last check failed
	// InHandler: the function whose ftrace handler the task is inside,
	// between its reads (a split call); Forking: the child of a fork
	// stopped after dup_task_struct. Either waits for its second half.
	InHandler string `json:",omitempty"`
	// InHook: the task is inside cond_resched's __klp_sched_try_switch
	// between its loads of klp_target_state and its stack check
	// (cond_resched … split); the value is the target it loaded.
	InHook  string `json:",omitempty"`
	Forking int    `json:",omitempty"`
	// Waits: what the shell or the kworker sleeps in, in the kernel,
	// until a grace period ends (writer.go, kworker.go).
	Waits string      `json:",omitempty"`
	Stack []FrameView // innermost first, as /proc/<pid>/stack
}

// FrameView is one stack frame with the version of code it runs.
type FrameView struct {
	Text   string // "cmdline_proc_show+0x10/0x30" (+ " [module]")
	Func   string // symbol executing
	Called string // function the caller asked for (old name)
	Module string `json:",omitempty"`
	Patch  string `json:",omitempty"` // livepatch module whose code runs, if any
	// Role colours the frame: "unrelated" (function not patched), "old"
	// (original or an older patch's version of a patched function),
	// "new" (the version at the top of the func_stack), "stale" (a
	// version no longer on any func_stack).
	Role string
}

// ModuleView is one declared module.
type ModuleView struct {
	Name      string
	State     string
	Refcnt    int
	Livepatch bool
}

// PatchView is one klp_patch on the list.
type PatchView struct {
	Name       string
	Enabled    bool
	Transition bool
	Forced     bool
	Replace    bool
	StackOrder int
	Objects    []ObjView
}

// ObjView is one klp_object.
type ObjView struct {
	Name    string
	Loaded  bool
	Patched bool
	Dynamic bool
	Funcs   []FuncView
}

// FuncView is one klp_func.
type FuncView struct {
	Old        string
	Sympos     int
	New        string
	Nop        bool
	Patched    bool
	Transition bool
}

// FuncStackView is one original function's func_stack.
type FuncStackView struct {
	Func    string // old name
	Object  string
	Entries []FuncStackEntry // newest first
}

// FuncStackEntry is one func_stack entry.
type FuncStackEntry struct {
	Patch      string
	New        string
	Nop        bool
	Transition bool
}

// TransitionView describes the transition in progress.
type TransitionView struct {
	Patch      string
	Target     string // "patching" or "unpatching"
	Switched   int
	Total      int
	Retries    int   // klp_signals_cnt
	NextRetry  int64 // ns since boot of the next klp_transition_work, -1 none
	NextSignal int64 // ns since boot of the next automatic fake signal, -1 none
}

// View builds the serialisable picture of the state.
func (s *Sim) View() View {
	s.compactTasks() // walks the tasks
	v := s.viewBase()
	// Most frames recur across tasks (the same syscall paths), and a
	// frame's picture depends only on the frame and the func_stacks, which
	// are fixed while the view is built: each distinct frame is built once.
	frames := make(map[Frame]FrameView)
	v.Tasks = make([]TaskView, 0, len(s.tasks)+len(s.idle))
	for i := range s.tasks {
		v.Tasks = append(v.Tasks, s.taskView(&s.tasks[i], frames))
	}
	for i := range s.idle {
		v.Tasks = append(v.Tasks, s.taskView(&s.idle[i], frames))
	}
	return v
}

// viewBase is the View without its tasks.
func (s *Sim) viewBase() View {
	s.compactTasks() // walks the tasks
	v := View{
		Profile:     s.prof.String(),
		StateNames:  map[string]string{"-1": s.prof.StateName(Idle), "0": s.prof.StateName(Unpatched), "1": s.prof.StateName(Patched)},
		Differences: s.prof.Differences(),
		HZ:          s.hz, Jiffies: s.jiffies, Time: s.Now(), Seed: s.seed,
		Warnings: s.Warnings(), Alarms: s.alarms, Hazards: s.hazards, Syncs: s.syncs, NohzTouched: s.nohzTouched,
		Reliable: s.reliable, CondReschedHook: s.schedHook && s.prof.CondReschedHook(),
	}
	for _, c := range s.cpus {
		cv := CPUView{ID: c.ID, Online: c.Online, NohzFull: c.NohzFull, Curr: c.Curr, CurrComm: s.idle[c.ID].Comm}
		if t := s.task(c.Curr); c.Curr != 0 && t != nil {
			cv.CurrComm = t.Comm
		}
		v.CPUs = append(v.CPUs, cv)
	}
	for _, m := range s.mods {
		v.Modules = append(v.Modules, ModuleView{Name: m.Spec.Name, State: m.State.String(), Refcnt: m.Refcnt, Livepatch: m.Spec.Patch != nil})
	}
	for pos, pi := range s.list {
		p := &s.patches[pi]
		pv := PatchView{Name: p.Mod, Enabled: p.Enabled, Transition: pi == s.transition, Forced: p.Forced, Replace: p.Replace, StackOrder: pos + 1}
		for _, o := range p.Objs {
			ov := ObjView{Name: o.Name, Loaded: o.Loaded, Patched: o.Patched, Dynamic: o.Dynamic}
			for _, f := range o.Funcs {
				if f.Discarded {
					continue
				}
				ov.Funcs = append(ov.Funcs, FuncView{Old: f.Old, Sympos: f.Sympos, New: f.New, Nop: f.Nop, Patched: f.Patched, Transition: f.Transition})
			}
			pv.Objects = append(pv.Objects, ov)
		}
		v.Patches = append(v.Patches, pv)
	}
	// func_stacks in address order, so the view is stable
	for _, id := range s.sortedOps() {
		o := s.ops[s.opsByCode[id]]
		c := s.code[o.Orig]
		fv := FuncStackView{Func: c.Name, Object: c.Obj}
		for _, r := range o.Stack {
			f := s.fn(r)
			fv.Entries = append(fv.Entries, FuncStackEntry{Patch: s.patches[r.P].Mod, New: f.New, Nop: f.Nop, Transition: f.Transition})
		}
		v.FuncStacks = append(v.FuncStacks, fv)
	}
	if s.transition >= 0 {
		total := len(s.tasks) + len(s.idle)
		tv := &TransitionView{Patch: s.patches[s.transition].Mod, Target: dirName(s.target), Switched: total - s.countLeft(), Total: total, Retries: s.signalsCnt, NextRetry: -1, NextSignal: -1}
		if s.workDue >= 0 {
			tv.NextRetry = s.jifToNs(uint64(s.workDue))
			if s.prof.AutoSignals() {
				// The work at retry count n signals when n%15 == 0, n > 0.
				n := s.signalsCnt
				k := (signalsTimeout - n%signalsTimeout) % signalsTimeout
				if n == 0 {
					k = signalsTimeout
				}
				// Each retry queues the next a second on, rounded to a
				// whole second and then to the timer wheel's bucket.
				at, cpu := uint64(s.workDue), s.callerCPU()
				for range k {
					at = s.nextRetry(at, cpu)
				}
				tv.NextSignal = s.jifToNs(at)
			}
		}
		v.Transition = tv
	}
	return v
}

func (s *Sim) jifToNs(j uint64) int64 {
	return int64(j-s.bootJif) * (1e9 / int64(s.hz))
}

func (s *Sim) sortedOps() []CodeID {
	ids := make([]CodeID, 0, len(s.ops))
	for i := range s.ops {
		ids = append(ids, s.ops[i].Orig)
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}

func (s *Sim) taskView(t *Task, frames map[Frame]FrameView) TaskView {
	tv := s.taskHead(t)
	if len(t.Stack) > 0 {
		tv.Stack = make([]FrameView, 0, len(t.Stack))
	}
	for i := len(t.Stack) - 1; i >= 0; i-- {
		fr := t.Stack[i]
		fv, ok := frames[fr]
		if !ok {
			fv = s.frameView(fr)
			frames[fr] = fv
		}
		tv.Stack = append(tv.Stack, fv)
	}
	return tv
}

// taskHead is a task's picture without its stack.
func (s *Sim) taskHead(t *Task) TaskView {
	tv := TaskView{PID: t.PID, TGID: t.TGID, Comm: t.Comm, Kind: t.Kind.String(), State: t.State.String(), Letter: t.State.Letter(),
		CPU: -1, InKernel: t.InKernel, Freezable: t.Freezable, PatchState: t.PatchState, Pending: t.PatchPending, Signal: t.SigPending,
		Unreliable: t.Unreliable, NoRCU: t.NoRCU, Blocked: t.Blocked}
	if t.Kind == IdleTask {
		tv.CPU = t.CPU
		if s.cpus[t.CPU].Curr != 0 || !s.cpus[t.CPU].Online {
			tv.State = "runnable"
			if !s.cpus[t.CPU].Online {
				tv.State = "offline"
			}
		}
	} else if t.State == Running {
		tv.CPU = t.CPU
	}
	if i := s.handlerIdx(t.PID); i >= 0 {
		if h := s.inHandler[i]; h.Hook {
			tv.InHook = s.prof.StateName(h.HookTarget)
		} else {
			tv.InHandler = s.code[h.Orig].Name
		}
	}
	for _, f := range s.forking {
		if f.Parent == t.PID {
			tv.Forking = f.Child
		}
	}
	if s.inKernelWait(t.PID) {
		tv.Waits = s.waitsIn(t.PID)
	}
	return tv
}

func (s *Sim) frameText(fr Frame) string {
	c := s.code[fr.Code]
	// "%s+0x%x/0x%x [%s]" by hand: fmt costs more than the rest of a view.
	b := make([]byte, 0, len(c.Name)+len(c.Obj)+24)
	b = append(b, c.Name...)
	b = append(b, "+0x"...)
	b = strconv.AppendUint(b, uint64(fr.Off), 16)
	b = append(b, "/0x"...)
	b = strconv.AppendUint(b, uint64(c.Size), 16)
	if c.Obj != "vmlinux" {
		b = append(b, " ["...)
		b = append(b, c.Obj...)
		b = append(b, ']')
	}
	return string(b)
}

func (s *Sim) frameView(fr Frame) FrameView {
	c := s.code[fr.Code]
	fv := FrameView{Text: s.frameText(fr), Func: c.Name, Called: s.code[fr.Called].Name, Role: s.frameRole(fr)}
	if c.Obj != "vmlinux" {
		fv.Module = c.Obj
	}
	if c.ForPatch != "" {
		fv.Patch = c.ForPatch
	}
	return fv
}

// frameRole says which version of a function a frame runs, relative to
// the function's func_stack now.
func (s *Sim) frameRole(fr Frame) string {
	c := s.code[fr.Code]
	orig := s.origOf(fr)
	oi, ok := s.opsByCode[orig]
	if !ok {
		if c.ForPatch != "" {
			return "stale"
		}
		return "unrelated"
	}
	st := s.ops[oi].Stack
	top := s.fn(st[0])
	topCode := top.NewCode
	if top.Nop {
		topCode = orig
	}
	if fr.Code == topCode {
		return "new"
	}
	if fr.Code == orig {
		return "old"
	}
	for _, r := range st[1:] {
		if s.fn(r).NewCode == fr.Code {
			return "old"
		}
	}
	return "stale"
}
