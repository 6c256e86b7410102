package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

// declareVerbs describe the machine: its functions, modules, livepatches
// and tasks.
var declareVerbs = []Verb{
	{Name: "vmlinux", Min: 1, Usage: "vmlinux f1 f2/0x30 f3 [alias.NAME=f2]", Run: (*Session).vmlinux, Complete: args(cFrames),
		Doc: "functions of the kernel, in link order; `/size` (default 0x100); `alias.NAME=F` makes NAME a second symbol at F's address (as kallsyms lists both): calling or patching either name reaches the one function and its one ftrace handler. A patch names a function by `sympos` when its object has several of that name: `klp_find_object_symbol`'s errors (`symbol 'F' not found in symbol table`, `unresolvable ambiguity for symbol 'F' in object 'O'`, `symbol position N for symbol 'F' in object 'O' not found`) fail the load with `EINVAL`"},
	{Name: "module", Min: 1, Usage: `module NAME f1 f2/0x40 [alias.NAME=f2] [init="text"] [exit="text"] [init-error=ENODEV] [param.NAME[:TYPE]=DEFAULT] [uses=f3,f4] [kprobe=FUNC kprobe-post=Y|N|param.NAME] [program=test_klp_shadow_vars|test_klp_shadow_vars-v5.1|test_klp_callbacks_busy]`, Run: (*Session).module,
		Doc: "a target module that `insmod` can load (not loaded yet); `param.` declares a module parameter (see below for types); `uses=` names functions of other modules it calls: they must be loaded first (\"Unknown symbol\", ENOENT), and cannot be removed while it is loaded; `kprobe=` makes its init register a kprobe on FUNC (on ftrace), with a post handler if `kprobe-post` says so (test_klp_kprobe's `has_post_handler`): a kprobe with a post handler and a livepatch of the same function exclude each other with `EBUSY`, whichever comes second failing; `program=` runs a test module's program (`test_klp_shadow_vars`: the shadow variable API, `klp_shadow_*`, as that selftest module exercises it, with its log; `test_klp_shadow_vars-v5.1`: the same module as v5.1–v5.8 shipped it, shadow variables of THIS_MODULE and the bytes after it; `test_klp_callbacks_busy`: its work item, which with `block_transition=Y` leaves a kworker sleeping in `busymod_work_func` until the module's exit clears the flag and flushes it; a module declaring `param.sleep_secs` is the one before v5.9, whose work prints `sleeping N seconds ...` and, for N > 0, sleeps until the module's exit waits for it: the N-second timer is not modelled)"},
	{Name: "livepatch", Min: 1, Usage: "livepatch NAME [replace] [replace=param.NAME] [immediate] [not-livepatch]` … `end", Run: (*Session).livepatchDecl,
		Doc: "a livepatch module (see below); `replace=param.NAME` lets a module parameter decide atomic replace at load time; `immediate` (kernels 4.12 to 4.15) skips the consistency model: every task runs the new code at once"},
	{Name: "task", Min: 2, Usage: "task PID COMM [kthread] [state=S] [cpu=N] [user] [freezable] [unreliable] [norcu] [tgid=N] [parent=N] [stack=a>b>c+0x10]", Run: (*Session).task, Complete: args(keyed(cFrames, map[string][]string{"state": stateNames()},
		"kthread", "user", "freezable", "unreliable", "norcu", "state=", "cpu=", "tgid=", "parent=", "stack=")),
		Doc: "a task; `stack=` lists frames outermost first, `>` meaning \"calls\"; `state=` is one of `running` (needs `cpu=`), `runnable` (default), `S`, `D`, `T`, `t`"},
	{Name: "file", Min: 2, Usage: `file PATH FUNC ["TEXT"]`, Run: (*Session).fileDecl, Complete: args(nil, cFrames),
		Doc: "a /proc or /sys file that code produces (a seq_file or attribute show routine): reading it runs FUNC (`name`, `module:name` or `name,sympos`) through the ftrace handler and prints TEXT, or what the replacement that ran `prints=` (`func … prints=\"{mod}: this has been live patched\"`). It exists while FUNC's object is loaded and is read-only (a write fails with `EACCES`). `cat` reads it as the shell's task (`shell PID`), or, with none declared, shows what a user task that has passed kernel exit runs (the transition's target); `read PID PATH` reads it as that task"},
	{Name: "shell", Min: 1, Usage: "shell PID", Run: (*Session).shellDecl, Complete: args(cPIDs),
		Doc: "the task the shell's commands run as (e.g. `task 43 bash user`, then `shell 43`). `insmod`, `rmmod` and `echo` are its system calls: it runs on its CPU (or, if only runnable, on an idle one for the call), the first completion attempt runs as it — it checks its own stack, and its CPU is not \"running\" anyone else — and it returns to user mode after (a switch point); a sleeping shell runs nothing. `cat` of a file that code produces runs its function through the ftrace handler as that task, so its patch_state decides which version prints. `/proc/self/` is its `/proc/PID/`. A command that finds klp_mutex held by an unpatch's completion, or whose own completion waits for the RCU Tasks grace period, leaves it asleep (D) in the kernel: the command returns to the scenario with a note, the shell takes no other command, and the grace period's end finishes it. Without one, the commands run on the first idle CPU from no task, and `cat` shows what a task in the transition's target state reads"},
	{Name: "kworker", Min: 1, Usage: "kworker PID", Run: (*Session).kworkerDecl, Complete: args(cPIDs),
		Doc: "the kthread that runs klp_transition_work_fn (e.g. `task 57 kworker/0:1 kthread state=S stack=kthread>worker_thread>schedule`, then `kworker 57`): when the work's timer fires it wakes on the first idle CPU and runs the retry as `current` — its stack, without its `schedule` frame and with `process_one_work` and `klp_transition_work_fn` where vmlinux declares them, is checked like any task's, a WARNING names it — then sleeps again, and its CPU's idle task passes its switch point. An unpatch it completes leaves it in D (synchronize_rcu_tasks) until the grace period ends. Without one the work runs from no task"},
	{Name: "idle", Min: 2, Usage: "idle CPU stack=a>b", Run: (*Session).idle, Complete: args(cFrames),
		Doc: "the kernel stack of a CPU's idle task"},
}

func (s *Session) vmlinux(st Stmt, out []Out) ([]Out, error) {
	var fs []sim.FuncDecl
	for _, a := range st.Args {
		if d, ok := aliasDecl(a); ok {
			fs = append(fs, d)
			continue
		}
		d, err := s.funcDecl(a)
		if err != nil {
			return nil, err
		}
		fs = append(fs, d)
	}
	if err := s.sim.AddVmlinux(fs...); err != nil {
		return nil, s.errf(st.Pos, "%v", err)
	}
	return nil, nil
}

// aliasDecl reads alias.NAME=TARGET: NAME is a second symbol for TARGET.
func aliasDecl(a Arg) (sim.FuncDecl, bool) {
	name, ok := strings.CutPrefix(a.Key, "alias.")
	if !ok || a.Quoted {
		return sim.FuncDecl{}, false
	}
	return sim.FuncDecl{Name: name, AliasOf: a.Val}, true
}

func (s *Session) fileDecl(st Stmt, out []Out) ([]Out, error) {
	f := sim.ProducedFile{Path: st.Args[0].Val, Func: st.Args[1].Val}
	for _, a := range st.Args[:2] {
		if a.Key != "" || a.Quoted {
			return nil, s.errf(a.Pos, `file PATH FUNC ["TEXT"]: expected a plain word, got %q`, a.String())
		}
	}
	if len(st.Args) > 3 {
		return nil, s.errf(st.Args[3].Pos, `file PATH FUNC ["TEXT"]: one text only`)
	}
	if len(st.Args) == 3 {
		f.Text = st.Args[2].Val
	}
	if err := s.sim.AddProducedFile(f); err != nil {
		return nil, s.errf(st.Pos, "%v", err)
	}
	return nil, nil
}

func (s *Session) module(st Stmt, out []Out) ([]Out, error) {
	spec := sim.ModuleSpec{Name: modName(st.Args[0].Val)}
	for _, a := range st.Args[1:] {
		switch a.Key {
		case "":
			d, err := s.funcDecl(a)
			if err != nil {
				return nil, err
			}
			spec.Funcs = append(spec.Funcs, d)
		case "init":
			spec.InitLog = append(spec.InitLog, a.Val)
		case "exit":
			spec.ExitLog = append(spec.ExitLog, a.Val)
		case "uses":
			spec.Uses = append(spec.Uses, strings.Split(a.Val, ",")...)
		case "init-error":
			e, ok := sim.ParseErrno(a.Val)
			if !ok {
				return nil, s.errf(a.Pos, "unknown errno %q (use a name such as ENODEV or a number)", a.Val)
			}
			spec.InitErr = e
		case "kprobe":
			if spec.Kprobe == nil {
				spec.Kprobe = &sim.KprobeSpec{Post: "N"}
			}
			spec.Kprobe.Func = a.Val
		case "kprobe-post":
			if spec.Kprobe == nil {
				spec.Kprobe = &sim.KprobeSpec{}
			}
			spec.Kprobe.Post = a.Val
		case "program":
			spec.Program = a.Val
		default:
			if d, ok := aliasDecl(a); ok {
				spec.Funcs = append(spec.Funcs, d)
				continue
			}
			if name, ok := strings.CutPrefix(a.Key, "param."); ok && name != "" {
				name, typ, _ := strings.Cut(name, ":")
				spec.Params = append(spec.Params, sim.Param{Name: name, Default: a.Val, Type: typ})
				continue
			}
			return nil, s.unknownKey(a, "init", "exit", "init-error", "uses", "param.NAME", "kprobe", "kprobe-post", "program")
		}
	}
	if k := spec.Kprobe; k != nil && (k.Func == "" || !validKprobePost(k.Post)) {
		return nil, s.errf(st.Pos, "a module's kprobe needs kprobe=FUNC and kprobe-post=Y, N or param.NAME")
	}
	if err := s.sim.AddModule(spec); err != nil {
		return nil, s.errf(st.Pos, "%v", err)
	}
	return nil, nil
}

func (s *Session) livepatchDecl(st Stmt, out []Out) ([]Out, error) {
	spec, err := s.livepatch(st)
	if err != nil {
		return nil, err
	}
	if err := s.sim.AddModule(spec); err != nil {
		return nil, s.errf(st.Pos, "%v", err)
	}
	return nil, nil
}

func (s *Session) task(st Stmt, out []Out) ([]Out, error) {
	ts, err := s.taskSpec(st)
	if err != nil {
		return nil, err
	}
	if _, err := s.sim.Spawn(ts); err != nil {
		return nil, s.errf(st.Pos, "%v", err)
	}
	return nil, nil
}

func (s *Session) idle(st Stmt, out []Out) ([]Out, error) {
	cpu, err := s.num(st.Args[0])
	if err != nil {
		return nil, err
	}
	a := st.Args[1]
	if a.Key != "stack" {
		return nil, s.errf(a.Pos, "idle takes stack=a>b>c")
	}
	frames, err := s.frames(a)
	if err != nil {
		return nil, err
	}
	if err := s.sim.SetIdleStack(int(cpu), frames); err != nil {
		return nil, s.errf(a.Pos, "%v", err)
	}
	return nil, nil
}

// modName turns "test_modules/livepatch-sample.ko" into the module name
// the kernel uses, "livepatch_sample".
func modName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSuffix(s, ".ko")
	return strings.ReplaceAll(s, "-", "_")
}

func (s *Session) frames(a Arg) ([]sim.FrameSpec, error) {
	var out []sim.FrameSpec
	if a.Val == "" {
		return nil, nil
	}
	for _, f := range strings.Split(a.Val, ">") {
		fs, err := sim.ParseFrame(strings.TrimSpace(f))
		if err != nil {
			return nil, s.errf(a.Pos, "%v", err)
		}
		out = append(out, fs)
	}
	return out, nil
}

var taskStates = map[string]sim.TaskState{
	"running": sim.Running, "R": sim.Running, "runnable": sim.Runnable,
	"S": sim.Interruptible, "sleeping": sim.Interruptible, "interruptible": sim.Interruptible,
	"D": sim.Uninterruptible, "uninterruptible": sim.Uninterruptible,
	"T": sim.Stopped, "stopped": sim.Stopped, "t": sim.Traced, "traced": sim.Traced,
}

func stateNames() []string {
	return []string{"running", "runnable", "S", "D", "T", "t"}
}

func (s *Session) taskSpec(st Stmt) (sim.TaskSpec, error) {
	pid, err := s.pid(st.Args[0])
	if err != nil {
		return sim.TaskSpec{}, err
	}
	ts := sim.TaskSpec{PID: pid, Comm: st.Args[1].Val, State: sim.Runnable, CPU: -1}
	if st.Args[1].Key != "" {
		return ts, s.errf(st.Args[1].Pos, "task PID COMM: the second word is the comm, got %q", st.Args[1].String())
	}
	for _, a := range st.Args[2:] {
		switch {
		case a.Key == "" && a.Val == "kthread":
			ts.Kind = sim.Kthread
		case a.Key == "" && a.Val == "user":
			ts.User = true
		case a.Key == "" && a.Val == "freezable":
			ts.Freezable = true
		case a.Key == "" && a.Val == "unreliable":
			ts.Unreliable = true
		case a.Key == "" && a.Val == "norcu":
			ts.NoRCU = true
		case a.Key == "state":
			v, ok := taskStates[a.Val]
			if !ok {
				return ts, s.errf(a.Pos, "unknown task state %q (want one of %s)", a.Val, strings.Join(stateNames(), ", "))
			}
			ts.State = v
		case a.Key == "cpu":
			n, err := s.num(a)
			if err != nil {
				return ts, err
			}
			ts.CPU = int(n)
			if ts.State == sim.Runnable {
				ts.State = sim.Running
			}
		case a.Key == "tgid":
			n, err := s.pid(a)
			if err != nil {
				return ts, err
			}
			ts.TGID = n
		case a.Key == "parent":
			n, err := s.pid(a)
			if err != nil {
				return ts, err
			}
			ts.Parent = n
		case a.Key == "stack":
			fr, err := s.frames(a)
			if err != nil {
				return ts, err
			}
			ts.Stack = fr
		default:
			return ts, s.unknownKey(a, "kthread", "user", "freezable", "unreliable", "norcu", "state", "cpu", "tgid", "parent", "stack")
		}
	}
	if ts.State == sim.Running && ts.CPU < 0 {
		return ts, s.errf(st.Pos, "a running task needs cpu=N")
	}
	return ts, nil
}

var callbackKinds = []string{"pre_patch", "post_patch", "pre_unpatch", "post_unpatch"}

func (s *Session) livepatch(st Stmt) (sim.ModuleSpec, error) {
	spec := sim.ModuleSpec{Name: modName(st.Args[0].Val), Patch: &sim.PatchSpec{}}
	for _, a := range st.Args[1:] {
		switch {
		case a.Key == "" && a.Val == "replace":
			spec.Patch.Replace = true
		case a.Key == "replace" && strings.HasPrefix(a.Val, "param."):
			spec.Patch.ReplaceParam = strings.TrimPrefix(a.Val, "param.")
		case a.Key == "" && a.Val == "immediate":
			spec.Patch.Immediate = true
		case a.Key == "" && a.Val == "not-livepatch":
			spec.NotLivepatch = true
		default:
			return spec, s.unknownKey(a, "replace", "replace=param.NAME", "immediate", "not-livepatch")
		}
	}
	var obj *sim.ObjSpec
	for _, in := range st.Body {
		switch in.Verb {
		case "object":
			if len(in.Args) != 1 || in.Args[0].Key != "" {
				return spec, s.errf(in.Pos, "object takes one name: vmlinux or a module")
			}
			spec.Patch.Objects = append(spec.Patch.Objects, sim.ObjSpec{Name: modName(in.Args[0].Val)})
			obj = &spec.Patch.Objects[len(spec.Patch.Objects)-1]
		case "func":
			if obj == nil {
				return spec, s.errf(in.Pos, "func before any object line")
			}
			f, err := s.funcLine(in)
			if err != nil {
				return spec, err
			}
			obj.Funcs = append(obj.Funcs, f)
		case "callback":
			if obj == nil {
				return spec, s.errf(in.Pos, "callback before any object line")
			}
			if err := s.callbackLine(in, &obj.Callbacks); err != nil {
				return spec, err
			}
		case "param":
			if len(in.Args) != 2 || in.Args[0].Key != "" || in.Args[1].Key != "" {
				return spec, s.errf(in.Pos, "param NAME[:TYPE] DEFAULT (an int, Y/N for a bool; TYPE int, bool, charp or int[])")
			}
			name, typ, _ := strings.Cut(in.Args[0].Val, ":")
			spec.Params = append(spec.Params, sim.Param{Name: name, Default: in.Args[1].Val, Type: typ})
		case "pidcount":
			if len(in.Args) != 2 || in.Args[0].Key != "" || in.Args[1].Key != "" || !strings.HasPrefix(in.Args[1].Val, "param.") {
				return spec, s.errf(in.Pos, "pidcount FILE param.NAME (FILE reads how many pids of the int[] parameter have not yet run a replacement function)")
			}
			spec.Patch.PidCount = &sim.PidCountSpec{File: in.Args[0].Val, Param: strings.TrimPrefix(in.Args[1].Val, "param.")}
		case "reloc":
			const usage = "reloc .klp.rela.OBJ.SECTION .klp.sym.OBJ.NAME,SYMPOS [unmarked]"
			if len(in.Args) < 2 || len(in.Args) > 3 || in.Args[0].Key != "" || in.Args[1].Key != "" {
				return spec, s.errf(in.Pos, usage)
			}
			r := sim.RelocSpec{Section: in.Args[0].Val, Symbol: in.Args[1].Val}
			if len(in.Args) == 3 {
				if in.Args[2].Key != "" || in.Args[2].Val != "unmarked" {
					return spec, s.errf(in.Args[2].Pos, usage)
				}
				r.Unmarked = true
			}
			spec.Patch.Relocs = append(spec.Patch.Relocs, r)
		case "state":
			if len(in.Args) < 1 {
				return spec, s.errf(in.Pos, "state ID version=N")
			}
			id, err := s.num(in.Args[0])
			if err != nil {
				return spec, err
			}
			stt := sim.StateSpec{ID: int(id), Version: 0}
			for _, a := range in.Args[1:] {
				if a.Key != "version" {
					return spec, s.unknownKey(a, "version")
				}
				v, err := s.num(a)
				if err != nil {
					return spec, err
				}
				stt.Version = int(v)
			}
			spec.Patch.States = append(spec.Patch.States, stt)
		}
	}
	return spec, nil
}

// funcLine parses "func old -> new[/size] [sympos=N] [prints="TEXT"] [immediate]".
func (s *Session) funcLine(in Stmt) (sim.FuncSpec, error) {
	a := in.Args
	if len(a) < 3 || a[1].Val != "->" {
		return sim.FuncSpec{}, s.errf(in.Pos, `func OLD -> NEW[/size] [sympos=N] [prints="TEXT"] [immediate]`)
	}
	nd, err := s.funcDecl(a[2])
	if err != nil {
		return sim.FuncSpec{}, err
	}
	f := sim.FuncSpec{Old: a[0].Val, New: nd.Name, NewSize: nd.Size}
	for _, x := range a[3:] {
		if x.Key == "prints" {
			f.Prints = x.Val
			continue
		}
		if x.Key == "" && x.Val == "immediate" {
			f.Immediate = true
			continue
		}
		if x.Key != "sympos" {
			return f, s.unknownKey(x, "sympos", "prints", "immediate")
		}
		v, err := s.num(x)
		if err != nil {
			return f, err
		}
		f.Sympos = int(v)
	}
	return f, nil
}

func (s *Session) callbackLine(in Stmt, cbs *sim.Callbacks) error {
	if len(in.Args) < 1 {
		return s.errf(in.Pos, "callback KIND [ret=ERRNO] \"line\"...")
	}
	cb := &sim.Callback{}
	kind := in.Args[0].Val
	switch kind {
	case "pre_patch":
		cbs.PrePatch = cb
	case "post_patch":
		cbs.PostPatch = cb
	case "pre_unpatch":
		cbs.PreUnpatch = cb
	case "post_unpatch":
		cbs.PostUnpatch = cb
	default:
		msg := fmt.Sprintf("unknown callback %q (want %s)", kind, strings.Join(callbackKinds, ", "))
		if n := nearest(kind, callbackKinds); n != "" {
			msg = fmt.Sprintf("unknown callback %q (did you mean %q?)", kind, n)
		}
		return s.errf(in.Args[0].Pos, "%s", msg)
	}
	var ifPrev, ifNot int
	for _, a := range in.Args[1:] {
		switch {
		case a.Key == "ret" && strings.HasPrefix(a.Val, "param."):
			if kind != "pre_patch" {
				return s.errf(a.Pos, "only pre_patch returns a value; %s is void", kind)
			}
			cb.RetParam = strings.TrimPrefix(a.Val, "param.")
		case a.Key == "ret":
			e, ok := sim.ParseErrno(a.Val)
			if !ok {
				return s.errf(a.Pos, "unknown errno %q", a.Val)
			}
			if kind != "pre_patch" && e != 0 {
				return s.errf(a.Pos, "only pre_patch returns a value; %s is void", kind)
			}
			cb.Ret = e
		case a.Key == "if-prev" || a.Key == "if-no-prev":
			n, err := strconv.Atoi(a.Val)
			if err != nil {
				return s.errf(a.Pos, "%s takes a state id", a.Key)
			}
			if a.Key == "if-prev" {
				ifPrev = n
			} else {
				ifNot = n
			}
		case a.Quoted && a.Key == "":
			cb.Log = append(cb.Log, sim.CallbackLine{Text: a.Val, IfPrev: ifPrev, IfNotPrev: ifNot})
			ifPrev, ifNot = 0, 0
		default:
			return s.unknownKey(a, "ret", "if-prev", "if-no-prev")
		}
	}
	return nil
}

// roleDecl names the task that plays a role (the shell, the kworker): it
// must be declared first (example says how), and in names the input.
func (s *Session) roleDecl(st Stmt, verb, example string, in func(pid int) sim.Input) (int, error) {
	pid, err := s.pid(st.Args[0])
	if err != nil {
		return 0, err
	}
	if _, ok := s.sim.Task(pid); !ok {
		return 0, s.errf(st.Args[0].Pos, "%s: no task %d (declare it first, e.g. task %d %s)", verb, pid, pid, example)
	}
	if err := s.sim.Step(in(pid)); err != nil {
		return 0, s.errf(st.Args[0].Pos, "%v", err)
	}
	return pid, nil
}

// kworkerDecl names the kthread that runs the transition work.
func (s *Session) kworkerDecl(st Stmt, out []Out) ([]Out, error) {
	_, err := s.roleDecl(st, "kworker", "kworker/0:1 kthread state=S stack=kthread>worker_thread>schedule", func(pid int) sim.Input { return sim.Kworker{PID: pid} })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// shellDecl names the task the shell runs as.
func (s *Session) shellDecl(st Stmt, out []Out) ([]Out, error) {
	pid, err := s.roleDecl(st, "shell", "bash user", func(pid int) sim.Input { return sim.Shell{PID: pid} })
	if err != nil {
		return nil, err
	}
	s.shell = pid
	return out, nil
}
