package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// AddModule declares a module that can be loaded later with Insmod: a
// target module with functions, or a livepatch module.
func (s *Sim) AddModule(spec ModuleSpec) error {
	if spec.Name == "" || spec.Name == "vmlinux" && spec.Patch != nil {
		return fmt.Errorf("module name %q is not allowed", spec.Name)
	}
	if s.module(spec.Name) != nil {
		return fmt.Errorf("module %s declared twice", spec.Name)
	}
	if err := s.checkFuncDecls(spec.Name, spec.Funcs); err != nil {
		return fmt.Errorf("module %s: %v", spec.Name, err)
	}
	if err := s.checkParams(spec); err != nil {
		return err
	}
	if spec.Program != "" && modulePrograms[spec.Program] == nil {
		return fmt.Errorf("module %s: unknown program %q (known: %v)", spec.Name, spec.Program, ModulePrograms())
	}
	if p := spec.Patch; p != nil {
		if len(p.Objects) == 0 {
			return fmt.Errorf("livepatch %s has no objects", spec.Name)
		}
		if (p.Replace || p.ReplaceParam != "") && !s.prof.AtomicReplace() {
			return fmt.Errorf("livepatch %s: atomic replace needs kernel 5.1 or later (profile %s)", spec.Name, s.prof)
		}
		if !s.prof.Immediate() {
			imm := p.Immediate
			for _, o := range p.Objects {
				for _, f := range o.Funcs {
					imm = imm || f.Immediate
				}
			}
			if imm {
				return fmt.Errorf("livepatch %s: immediate was removed in kernel 4.16 (profile %s)", spec.Name, s.prof)
			}
		}
		if len(p.States) > 0 && !s.prof.States() {
			return fmt.Errorf("livepatch %s: system states need kernel 5.5 or later (profile %s)", spec.Name, s.prof)
		}
		seen := map[string]bool{}
		for _, o := range p.Objects {
			if seen[o.Name] {
				return fmt.Errorf("livepatch %s: object %s listed twice", spec.Name, o.Name)
			}
			seen[o.Name] = true
			// An object without functions is valid: the selftest modules
			// use one for its callbacks alone.
			if (o.Callbacks != Callbacks{}) && !s.prof.Callbacks() {
				return fmt.Errorf("livepatch %s: callbacks need kernel 4.15 or later (profile %s)", spec.Name, s.prof)
			}
			fs := map[string]bool{}
			for _, f := range o.Funcs {
				if f.Old == "" || f.New == "" {
					return fmt.Errorf("livepatch %s: a function of object %s lacks its old or new name", spec.Name, o.Name)
				}
				k := fmt.Sprintf("%s,%d", f.Old, f.Sympos)
				if fs[k] {
					return fmt.Errorf("livepatch %s: function %s patched twice in object %s", spec.Name, f.Old, o.Name)
				}
				fs[k] = true
				if f.NewSize == 0 || f.NewSize > 1<<20 {
					return fmt.Errorf("livepatch %s: function %s: size %d out of range", spec.Name, f.New, f.NewSize)
				}
			}
		}
	}
	s.mods = append(s.mods, Module{Spec: spec, Patch: -1})
	return nil
}

// ModuleState reports a declared module's state (ModUnloaded if unknown).
func (s *Sim) ModuleState(name string) ModState {
	if m := s.module(name); m != nil {
		return m.State
	}
	return ModUnloaded
}

// insmod loads a declared module. The error is the one the init_module
// syscall returns.
func (s *Sim) insmod(name string) error {
	if s.gp.Patch >= 0 {
		return s.klpMutexHeld() // klp_module_coming takes klp_mutex
	}
	m := s.module(name)
	if m == nil {
		return ENOENT
	}
	if m.State != ModUnloaded {
		return EEXIST
	}
	s.eventf(Event{Kind: EvModule}, "load_module: %s", name)
	if name == "vmlinux" {
		s.klp(LevelErr, "vmlinux.ko: invalid module name")
		return EINVAL
	}
	if len(m.Params) != len(m.Spec.Params) {
		m.Params = make([]string, len(m.Spec.Params))
		for i, p := range m.Spec.Params {
			m.Params[i] = p.Default
		}
	}
	m.State = ModComing
	m.Base = s.nextBase
	s.nextBase += moduleSpan
	m.Code = m.Code[:0]
	addr := s.addFuncs(name, m.Base, m.Spec.Funcs, &m.Code)
	if p := m.Spec.Patch; p != nil {
		for _, o := range p.Objects {
			for _, f := range o.Funcs {
				if s.findCodeIn(name, f.New) != NoCode {
					continue // two objects may share a replacement
				}
				m.Code = append(m.Code, s.addCode(Code{Addr: addr, Size: f.NewSize, Name: f.New, Obj: name, ForPatch: name}))
				addr += align16(f.NewSize)
			}
		}
		// check_modinfo_livepatch: pr_notice_once, only for a module
		// that carries the livepatch modinfo flag.
		if !s.tainted && !m.Spec.NotLivepatch {
			s.tainted = true
			s.printk(LevelNotice, "%s: tainting kernel with TAINT_LIVEPATCH", name)
		}
	}
	mi := s.modIndex(name)
	if err := s.simplifySymbols(mi); err != nil {
		s.unloadCode(mi)
		return err
	}
	// apply_relocations: vmlinux's klp relocations (and every klp
	// section's name) are checked when the patch module loads.
	if p := s.mods[mi].Spec.Patch; p != nil && s.prof.RelocsAtLoad() {
		if err := s.applyRelocs(p, "vmlinux"); err != nil {
			s.unloadCode(mi)
			return err
		}
	}
	// prepare_coming_module: klp_module_coming runs before the init.
	if err := s.klpModuleComing(mi); err != nil {
		s.unloadCode(mi)
		return err
	}
	m = &s.mods[mi]
	// do_init_module
	if m.Spec.Patch != nil {
		s.startPidCount(mi)
		if err := s.patchModuleInit(mi); err != nil {
			s.failInit(mi)
			return err
		}
	} else {
		for _, l := range m.Spec.InitLog {
			s.printk(LevelInfo, "%s: %s", name, l)
		}
		if m.Spec.InitErr != 0 {
			s.failInit(mi)
			return m.Spec.InitErr
		}
		if err := s.registerKprobe(mi); err != nil {
			s.failInit(mi)
			return err
		}
		if prog := modulePrograms[m.Spec.Program]; prog != nil {
			if err := prog(s, name); err != 0 {
				s.failInit(mi)
				return err
			}
		}
	}
	s.mods[mi].State = ModLive
	return nil
}

func (s *Sim) findCodeIn(obj, name string) CodeID {
	if ids := s.syms.ids(obj, name); len(ids) > 0 {
		return ids[0]
	}
	return NoCode
}

func (s *Sim) modIndex(name string) int {
	for i := range s.mods {
		if s.mods[i].Spec.Name == name {
			return i
		}
	}
	return -1
}

// failInit is do_init_module's failure path: GOING, klp_module_going, free.
func (s *Sim) failInit(mi int) {
	s.mods[mi].State = ModGoing
	s.klpModuleGoing(mi)
	s.unloadCode(mi)
}

// simplifySymbols is the part of simplify_symbols and resolve_symbol that
// matters here: each symbol of Spec.Uses must be a function of a live
// module, which the new module then holds (ref_module: the holder is on
// its source_list and it takes a reference).
func (s *Sim) simplifySymbols(mi int) error {
	m := &s.mods[mi]
	m.Deps = m.Deps[:0]
	var missing []string
	for _, sym := range m.Spec.Uses {
		owner := -1
		for j := range s.mods {
			if j != mi && s.mods[j].State == ModLive && s.findCodeIn(s.mods[j].Spec.Name, sym) != NoCode {
				owner = j
				break
			}
		}
		if owner < 0 {
			missing = append(missing, sym)
			continue
		}
		if !containsInt(m.Deps, owner) {
			m.Deps = append(m.Deps, owner)
		}
	}
	if len(missing) > 0 {
		m.Deps = m.Deps[:0]
		for _, sym := range missing {
			s.printk(LevelWarn, "%s: Unknown symbol %s (err %d)", m.Spec.Name, sym, -int(ENOENT))
		}
		return ENOENT
	}
	for _, d := range m.Deps {
		s.mods[d].Refcnt++
	}
	return nil
}

func containsInt(l []int, x int) bool {
	for _, v := range l {
		if v == x {
			return true
		}
	}
	return false
}

// Holders lists the loaded modules that use a module's symbols
// (/sys/module/<m>/holders).
func (s *Sim) Holders(name string) []string {
	mi := s.modIndex(name)
	var out []string
	for j := range s.mods {
		if s.mods[j].State != ModUnloaded && mi >= 0 && containsInt(s.mods[j].Deps, mi) {
			out = append(out, s.mods[j].Spec.Name)
		}
	}
	return out
}

func (s *Sim) unloadCode(mi int) {
	m := &s.mods[mi]
	for _, d := range m.Deps {
		if s.mods[d].Refcnt > 0 {
			s.mods[d].Refcnt-- // module_unload_free drops the references
		}
	}
	m.Deps = m.Deps[:0]
	s.code = slices.Clone(s.code) // clones share the table (Sim.Clone)
	for _, id := range m.Code {
		s.code[id].Dead = true
		s.syms.dropObj(s.code[id].Obj, s.code[id].Name)
	}
	s.syms.dropAliases(m.Spec.Name)
	m.Code = m.Code[:0]
	s.unregisterKprobes(m.Spec.Name)
	m.State = ModUnloaded
	m.KlpAlive = false
	m.Patch = -1
	m.Refcnt = 0
	m.Params = nil
}

// rmmod unloads a module. The error is the one delete_module returns.
func (s *Sim) rmmod(name string) error {
	if s.gp.Patch >= 0 {
		return s.klpMutexHeld() // klp_module_going takes klp_mutex
	}
	s.compactTasks() // walks the tasks
	mi := s.modIndex(name)
	if mi < 0 || s.mods[mi].State == ModUnloaded {
		return ENOENT
	}
	m := &s.mods[mi]
	// delete_module: other modules depend on us (-EWOULDBLOCK), doing init
	// or already dying (-EBUSY), still referenced (try_stop_module:
	// -EWOULDBLOCK, which is EAGAIN).
	if len(s.Holders(name)) > 0 {
		return EAGAIN
	}
	if m.State != ModLive {
		return EBUSY
	}
	if m.Refcnt > 0 {
		return EAGAIN
	}
	if prog := moduleExitPrograms[m.Spec.Program]; prog != nil {
		prog(s, name)
	}
	// A guard of the simulator, not of the kernel: on a real box a module's
	// code cannot be on a stack once its exit ran; here a scenario could
	// put it there, so refuse rather than leave dangling frames. A
	// livepatch's replacement of one of its functions counts as its code:
	// the task called the module's function (whatever version the ftrace
	// handler chose), and the module's exit would have to wait for it as
	// for any caller; letting it go would unpatch the function under the
	// task and mix versions. So does a task inside the ftrace handler of
	// one of its functions (a split call): it is executing that function's
	// entry and pushes its frame when the handler is done.
	for i := range s.tasks {
		for _, f := range s.tasks[i].Stack {
			if s.code[f.Code].Obj == name || s.code[f.Called].Obj == name {
				return EBUSY
			}
		}
	}
	for _, h := range s.inHandler {
		if !h.Hook && s.code[h.Orig].Obj == name {
			return EBUSY
		}
	}
	if m.Spec.Patch != nil && m.Patch >= 0 && s.prof.Registration() {
		// klp_unregister_patch from the module's exit.
		p := &s.patches[m.Patch]
		if p.Enabled {
			return EBUSY
		}
		s.freePatch(m.Patch, false)
	}
	m.State = ModGoing
	for _, l := range m.Spec.ExitLog {
		s.printk(LevelInfo, "%s: %s", name, l)
	}
	s.klpModuleGoing(mi)
	s.unloadCode(mi)
	s.eventf(Event{Kind: EvModule}, "delete_module: %s unloaded", name)
	return nil
}

// --- klp_module_coming / klp_module_going ---------------------------------

func (s *Sim) klpModuleComing(mi int) error {
	m := &s.mods[mi]
	m.KlpAlive = true
	for _, pi := range s.list {
		p := &s.patches[pi]
		for oi := range p.Objs {
			o := &p.Objs[oi]
			if o.Name != m.Spec.Name {
				continue
			}
			if s.prof.Registration() && !p.Enabled && pi != s.transition {
				// Before v5.1 a registered but disabled patch only
				// resolves the object; it is applied on enable.
				s.initObjectLoaded(pi, oi)
				break
			}
			if err := s.initObjectLoaded(pi, oi); err != nil {
				s.klp(LevelWarn, "failed to initialize patch '%s' for module '%s' (%d)", p.Mod, o.Name, -int(err.(Errno)))
				return s.comingFailed(mi, pi, err)
			}
			s.klp(LevelNotice, "applying patch '%s' to loading module '%s'", p.Mod, o.Name)
			if err := s.prePatchCallback(pi, oi); err != nil {
				s.klp(LevelWarn, "pre-patch callback failed for object '%s'", o.Name)
				return s.comingFailed(mi, pi, err)
			}
			if err := s.patchObject(pi, oi); err != nil {
				s.klp(LevelWarn, "failed to apply patch '%s' to module '%s' (%d)", p.Mod, o.Name, -int(err.(Errno)))
				s.postUnpatchCallback(pi, oi)
				return s.comingFailed(mi, pi, err)
			}
			if pi != s.transition {
				s.postPatchCallback(pi, oi)
			}
			break
		}
	}
	return nil
}

func (s *Sim) comingFailed(mi, pi int, err error) error {
	m := &s.mods[mi]
	s.klp(LevelWarn, "patch '%s' failed for module '%s', refusing to load module '%s'", s.patches[pi].Mod, m.Spec.Name, m.Spec.Name)
	m.KlpAlive = false
	for oi := range s.patches[pi].Objs {
		o := &s.patches[pi].Objs[oi]
		if o.Name == m.Spec.Name {
			o.Loaded = false
		}
	}
	s.cleanupModulePatches(mi, pi)
	return err
}

func (s *Sim) klpModuleGoing(mi int) {
	s.mods[mi].KlpAlive = false
	s.cleanupModulePatches(mi, -1)
}

// cleanupModulePatches is klp_cleanup_module_patches_limited: revert every
// listed patch's object for the module, up to (not including) limit.
func (s *Sim) cleanupModulePatches(mi, limit int) {
	name := s.mods[mi].Spec.Name
	for _, pi := range append([]int(nil), s.list...) {
		if pi == limit {
			break
		}
		p := &s.patches[pi]
		for oi := range p.Objs {
			o := &p.Objs[oi]
			if o.Name != name || !o.Loaded {
				continue
			}
			if s.prof.Registration() && !p.Enabled && pi != s.transition {
				o.Loaded = false
				s.forgetObject(pi, oi)
				break
			}
			if pi != s.transition {
				s.preUnpatchCallback(pi, oi)
			}
			s.klp(LevelNotice, "reverting patch '%s' on unloading module '%s'", p.Mod, name)
			s.unpatchObject(pi, oi, false)
			s.postUnpatchCallback(pi, oi)
			o.Loaded = false
			s.forgetObject(pi, oi)
			break
		}
	}
}

func (s *Sim) forgetObject(pi, oi int) {
	o := &s.patches[pi].Objs[oi]
	for fi := range o.Funcs {
		o.Funcs[fi].OldCode = NoCode
		if o.Funcs[fi].Nop {
			o.Funcs[fi].NewCode = NoCode
		}
	}
}

// initObjectLoaded is klp_init_object_loaded: resolve every function of a
// loaded object, printing the kernel's errors.
func (s *Sim) initObjectLoaded(pi, oi int) error {
	p := &s.patches[pi]
	o := &p.Objs[oi]
	if spec := s.module(p.Mod).Spec.Patch; spec != nil && (o.Name != "vmlinux" || !s.prof.RelocsAtLoad()) {
		if err := s.applyRelocs(spec, o.Name); err != nil {
			return err
		}
	}
	for fi := range o.Funcs {
		f := &o.Funcs[fi]
		id, err := s.findObjectSymbol(o.Name, f.Old, uint64(f.Sympos))
		if err != nil {
			return err
		}
		f.OldCode = id
		if f.Nop {
			f.NewCode = id
		} else {
			f.NewCode = s.findCodeIn(p.Mod, f.New)
		}
	}
	o.Loaded = true
	return nil
}

// --- patch module init: klp_enable_patch ------------------------------------

func (s *Sim) patchModuleInit(mi int) error {
	m := &s.mods[mi]
	if m.Spec.NotLivepatch {
		s.klp(LevelErr, "module %s is not marked as a livepatch module", m.Spec.Name)
		return EINVAL
	}
	if !s.reliable && !m.Spec.Patch.Immediate {
		// (v4.12-v4.15: an immediate patch needs no reliable stacks)
		if s.prof.UnsupportedArchWarns() {
			s.klp(LevelWarn, "This architecture doesn't have support for the livepatch consistency model.")
			s.klp(LevelWarn, "The livepatch transition may never complete.")
		} else {
			s.klp(LevelErr, "This architecture doesn't have support for the livepatch consistency model.")
			return s.prof.NoConsistencyErrno()
		}
	}
	spec := m.Spec.Patch
	if s.prof.States() && !s.compatible(spec) {
		s.klp(LevelErr, "Livepatch patch (%s) is not compatible with the already installed livepatches.", m.Spec.Name)
		return EINVAL
	}
	pi := s.initPatch(mi)
	if !s.prof.Registration() {
		s.mods[mi].Refcnt++ // try_module_get in klp_enable_patch
	}
	for oi := range s.patches[pi].Objs {
		if s.objLoaded(s.patches[pi].Objs[oi].Name) {
			if err := s.initObjectLoaded(pi, oi); err != nil {
				s.dropPatch(mi, pi)
				return err
			}
		}
	}
	s.patches[pi].Listed = true
	s.list = append(s.list, pi)
	// Before v5.1 this was klp_register_patch followed by the sample
	// module's klp_enable_patch, which unregisters on failure.
	if err := s.enablePatch(pi); err != nil {
		s.dropPatch(mi, pi)
		return err
	}
	return nil
}

func (s *Sim) dropPatch(mi, pi int) {
	s.freePatch(pi, false)
	if !s.prof.Registration() {
		s.mods[mi].Refcnt--
	}
}

// compatible is klp_is_patch_compatible.
func (s *Sim) compatible(spec *PatchSpec) bool {
	for _, pi := range s.list {
		for _, old := range s.patches[pi].States {
			var st *StateSpec
			for i := range spec.States {
				if spec.States[i].ID == old.ID {
					st = &spec.States[i]
				}
			}
			if st == nil {
				if spec.Replace {
					return false
				}
				continue
			}
			if st.Version < old.Version {
				return false
			}
		}
	}
	return true
}

// initPatch creates the klp_patch with its objects, functions and, for a
// replace patch, the nops; klp_init_patch.
func (s *Sim) initPatch(mi int) int {
	m := &s.mods[mi]
	spec := m.Spec.Patch
	p := Patch{Mod: m.Spec.Name, Spec: mi, Replace: spec.Replace, Immediate: spec.Immediate, States: append([]StateSpec(nil), spec.States...)}
	if spec.ReplaceParam != "" {
		v, _ := s.param(m.Spec.Name, spec.ReplaceParam)
		p.Replace = v != "" && v != "0" && v != "N"
	}
	for _, os := range spec.Objects {
		o := Obj{Name: os.Name, Callbacks: os.Callbacks}
		for _, fs := range os.Funcs {
			o.Funcs = append(o.Funcs, Func{Old: fs.Old, Sympos: fs.Sympos, New: fs.New, Immediate: fs.Immediate, OldCode: NoCode, NewCode: NoCode})
		}
		p.Objs = append(p.Objs, o)
	}
	if p.Replace {
		// klp_add_nops: every function of every listed patch that this
		// patch does not replace gets a nop, so that completing the
		// transition can drop all older patches.
		for _, oldi := range s.list {
			for _, oo := range s.patches[oldi].Objs {
				var no *Obj
				for i := range p.Objs {
					if p.Objs[i].Name == oo.Name {
						no = &p.Objs[i]
					}
				}
				if no == nil {
					p.Objs = append(p.Objs, Obj{Name: oo.Name, Dynamic: true})
					no = &p.Objs[len(p.Objs)-1]
				}
				// klp_find_func per function, with a set instead of a
				// scan, so a patch of many functions adds nops in
				// linear time.
				have := make(map[FuncSpec]bool, len(no.Funcs))
				for _, nf := range no.Funcs {
					have[FuncSpec{Old: nf.Old, Sympos: nf.Sympos}] = true
				}
				for _, of := range oo.Funcs {
					k := FuncSpec{Old: of.Old, Sympos: of.Sympos}
					if of.Discarded || have[k] {
						continue
					}
					have[k] = true
					no.Funcs = append(no.Funcs, Func{Old: of.Old, Sympos: of.Sympos, New: of.Old, Nop: true, OldCode: NoCode, NewCode: NoCode})
				}
			}
		}
	}
	s.patches = append(s.patches, p)
	pi := len(s.patches) - 1
	m.Patch = pi
	s.eventf(Event{Kind: EvModule, Patch: p.Mod}, "klp_init_patch: /sys/kernel/livepatch/%s created", p.Mod)
	return pi
}

// enablePatch is __klp_enable_patch.
func (s *Sim) enablePatch(pi int) error {
	p := &s.patches[pi]
	if s.transition >= 0 {
		return EBUSY
	}
	if s.prof.Registration() {
		pos := s.listPos(pi)
		if pos > 0 && !s.patches[s.list[pos-1]].Enabled {
			return EBUSY // stacking: the previous patch must be enabled
		}
		s.mods[p.Spec].Refcnt++ // try_module_get, dropped when unpatched
	}
	s.klp(LevelNotice, "enabling patch '%s'", p.Mod)
	s.initTransition(pi, Patched)
	for oi := range p.Objs {
		o := &p.Objs[oi]
		if !o.Loaded {
			continue
		}
		if err := s.prePatchCallback(pi, oi); err != nil {
			s.klp(LevelWarn, "pre-patch callback failed for object '%s'", o.Name)
			return s.enableFailed(pi, err)
		}
		if err := s.patchObject(pi, oi); err != nil {
			if s.prof.Callbacks() {
				// v4.12-v4.14 print only "failed to enable patch".
				s.klp(LevelWarn, "failed to patch object '%s'", o.Name)
			}
			return s.enableFailed(pi, err)
		}
	}
	s.startTransition()
	if s.prof.EnabledBeforeFirstTry() {
		p.Enabled = true
		s.tryCompleteTransition()
	} else {
		s.tryCompleteTransition()
		s.patches[pi].Enabled = true
	}
	return nil
}

func (s *Sim) enableFailed(pi int, err error) error {
	s.klp(LevelWarn, "failed to enable patch '%s'", s.patches[pi].Mod)
	s.cancelTransition() // drops the module reference before v5.1
	return err
}

func (s *Sim) listPos(pi int) int {
	for i, x := range s.list {
		if x == pi {
			return i
		}
	}
	return -1
}

// disablePatch is __klp_disable_patch.
func (s *Sim) disablePatch(pi int) error {
	p := &s.patches[pi]
	if s.transition >= 0 {
		return EBUSY
	}
	if s.prof.Registration() {
		pos := s.listPos(pi)
		if pos >= 0 && pos < len(s.list)-1 && s.patches[s.list[pos+1]].Enabled {
			return EBUSY // stacking: only the topmost enabled patch
		}
	}
	s.initTransition(pi, Unpatched)
	for oi := range p.Objs {
		if p.Objs[oi].Patched {
			s.preUnpatchCallback(pi, oi)
		}
	}
	s.startTransition()
	if s.prof.EnabledBeforeFirstTry() {
		p.Enabled = false
		s.tryCompleteTransition()
	} else {
		s.tryCompleteTransition()
		s.patches[pi].Enabled = false
	}
	return nil
}

// freePatch drops the patch from the list and its sysfs directory; the
// module reference goes too unless the patch is forced (or, before v5.1,
// the reference was already dropped at unpatch completion).
func (s *Sim) freePatch(pi int, put bool) {
	p := &s.patches[pi]
	if p.Freed {
		return
	}
	if p.Listed {
		for i, x := range s.list {
			if x == pi {
				s.list = append(s.list[:i:i], s.list[i+1:]...)
				break
			}
		}
		p.Listed = false
	}
	p.Freed = true
	if m := &s.mods[p.Spec]; m.Patch == pi {
		if put && !p.Forced && m.Refcnt > 0 {
			m.Refcnt--
		}
	}
	s.eventf(Event{Kind: EvModule, Patch: p.Mod}, "klp_free_patch: /sys/kernel/livepatch/%s removed%s", p.Mod, map[bool]string{true: "; module stays pinned (forced)", false: ""}[p.Forced && put])
}

// --- callbacks ---------------------------------------------------------------

func (s *Sim) runCallback(pi, oi int, which string, cb *Callback) Errno {
	p := &s.patches[pi]
	o := &p.Objs[oi]
	s.eventf(Event{Kind: EvCallback, Patch: p.Mod, Func: which}, "%s: %s callback for %s", p.Mod, which, o.Name)
	if cb == nil {
		return 0
	}
	ret := cb.Ret
	if cb.RetParam != "" {
		if v, ok := s.param(p.Mod, cb.RetParam); ok {
			n, _ := strconv.Atoi(v)
			if n < 0 {
				n = -n
			}
			ret = Errno(n)
		}
	}
	objstate := "vmlinux"
	if o.Name != "vmlinux" {
		objstate = o.Name + " -> " + modStateString(s.ModuleState(o.Name))
	}
	for _, l := range cb.Log {
		if l.IfPrev != 0 && !s.prevState(pi, l.IfPrev) || l.IfNotPrev != 0 && s.prevState(pi, l.IfNotPrev) {
			continue
		}
		t := strings.ReplaceAll(l.Text, "{objstate}", objstate)
		t = strings.ReplaceAll(t, "{obj}", o.Name)
		s.printk(LevelInfo, "%s: %s", p.Mod, t)
	}
	return ret
}

// prevState is klp_get_prev_state: does a listed patch other than pi carry
// state id?
func (s *Sim) prevState(pi, id int) bool {
	for _, x := range s.list {
		if x == pi {
			break
		}
		for _, st := range s.patches[x].States {
			if st.ID == id {
				return true
			}
		}
	}
	return false
}

// modStateString is how the selftest modules print a module's state.
func modStateString(m ModState) string {
	switch m {
	case ModLive:
		return "[MODULE_STATE_LIVE] Normal state"
	case ModComing:
		return "[MODULE_STATE_COMING] Full formed, running module_init"
	case ModGoing:
		return "[MODULE_STATE_GOING] Going away"
	}
	return "[MODULE_STATE_UNFORMED] Still setting it up"
}

func (s *Sim) prePatchCallback(pi, oi int) error {
	o := &s.patches[pi].Objs[oi]
	ret := Errno(0)
	if o.Callbacks.PrePatch != nil {
		ret = s.runCallback(pi, oi, "pre_patch", o.Callbacks.PrePatch)
	}
	if ret == 0 {
		s.patches[pi].Objs[oi].PrePatchOK = true
		return nil
	}
	return ret
}

func (s *Sim) postPatchCallback(pi, oi int) {
	if cb := s.patches[pi].Objs[oi].Callbacks.PostPatch; cb != nil {
		s.runCallback(pi, oi, "post_patch", cb)
	}
}

func (s *Sim) preUnpatchCallback(pi, oi int) {
	if cb := s.patches[pi].Objs[oi].Callbacks.PreUnpatch; cb != nil {
		s.runCallback(pi, oi, "pre_unpatch", cb)
	}
}

func (s *Sim) postUnpatchCallback(pi, oi int) {
	o := &s.patches[pi].Objs[oi]
	if o.PrePatchOK && o.Callbacks.PostUnpatch != nil {
		s.runCallback(pi, oi, "post_unpatch", o.Callbacks.PostUnpatch)
	}
	s.patches[pi].Objs[oi].PrePatchOK = false
}

// --- func_stack: klp_patch_func / klp_unpatch_func ---------------------------

func (s *Sim) fn(r FuncRef) *Func { return &s.patches[r.P].Objs[r.O].Funcs[r.F] }

func (s *Sim) patchObject(pi, oi int) error {
	o := &s.patches[pi].Objs[oi]
	for fi := range o.Funcs {
		if o.Funcs[fi].Discarded {
			continue
		}
		if err := s.patchFunc(FuncRef{int32(pi), int32(oi), int32(fi)}); err != nil {
			s.unpatchObject(pi, oi, false)
			return err
		}
	}
	s.patches[pi].Objs[oi].Patched = true
	return nil
}

func (s *Sim) patchFunc(r FuncRef) error {
	f := s.fn(r)
	if f.OldCode == NoCode {
		s.warnOn("klp_patch_func: !func->old_func", "kernel/livepatch/patch.c", "klp_patch_func")
		return EINVAL
	}
	if f.Patched {
		s.warnOn("klp_patch_func: func->patched", "kernel/livepatch/patch.c", "klp_patch_func")
		return EINVAL
	}
	oi, ok := s.opsByCode[f.OldCode]
	if !ok {
		if s.ftraceOff || s.kprobeIPModify(f.OldCode) {
			s.klp(LevelErr, "failed to register ftrace handler for function '%s' (%d)", f.Old, -int(EBUSY))
			return EBUSY
		}
		s.ops = append(s.ops, Ops{Orig: f.OldCode})
		oi = len(s.ops) - 1
		s.ownOps()
		s.opsByCode[f.OldCode] = oi
		s.eventf(Event{Kind: EvFunc, Func: f.Old}, "ftrace handler registered on %s", f.Old)
	}
	o := &s.ops[oi]
	o.Stack = append([]FuncRef{r}, o.Stack...)
	f.Patched = true
	what := f.New
	if f.Nop {
		what = "nop"
	}
	s.eventf(Event{Kind: EvFunc, Patch: s.patches[r.P].Mod, Func: f.Old}, "func_stack of %s: pushed %s (%s)", f.Old, what, s.patches[r.P].Mod)
	return nil
}

func (s *Sim) unpatchFunc(r FuncRef) {
	f := s.fn(r)
	oi, ok := s.opsByCode[f.OldCode]
	if !ok {
		s.warnOn("klp_unpatch_func: !ops", "kernel/livepatch/patch.c", "klp_unpatch_func")
		return
	}
	o := &s.ops[oi]
	for i, x := range o.Stack {
		if x == r {
			o.Stack = append(o.Stack[:i:i], o.Stack[i+1:]...)
			break
		}
	}
	f.Patched = false
	if !s.mute(EvFunc) {
		s.eventf(Event{Kind: EvFunc, Patch: s.patches[r.P].Mod, Func: f.Old}, "func_stack of %s: popped %s's entry", f.Old, s.patches[r.P].Mod)
	}
	if len(o.Stack) == 0 {
		s.ownOps()
		delete(s.opsByCode, f.OldCode)
		// keep indexes stable: swap-remove and fix the map
		last := len(s.ops) - 1
		if oi != last {
			s.ops[oi] = s.ops[last]
			s.opsByCode[s.ops[oi].Orig] = oi
		}
		s.ops = s.ops[:last]
		if !s.mute(EvFunc) {
			s.eventf(Event{Kind: EvFunc, Func: f.Old}, "ftrace handler unregistered from %s", f.Old)
		}
	}
}

func (s *Sim) unpatchObject(pi, oi int, nopsOnly bool) {
	o := &s.patches[pi].Objs[oi]
	for fi := range o.Funcs {
		f := &o.Funcs[fi]
		if nopsOnly && !f.Nop {
			continue
		}
		if f.Patched {
			s.unpatchFunc(FuncRef{int32(pi), int32(oi), int32(fi)})
		}
	}
	if o.Dynamic || !nopsOnly {
		o.Patched = false
	}
}

func (s *Sim) unpatchObjects(pi int, nopsOnly bool) {
	for oi := range s.patches[pi].Objs {
		if s.patches[pi].Objs[oi].Patched {
			s.unpatchObject(pi, oi, nopsOnly)
		}
	}
}

// discardNops is klp_discard_nops: unpatch and free the nop functions.
func (s *Sim) discardNops(pi int) {
	s.unpatchObjects(pi, true)
	for oi := range s.patches[pi].Objs {
		o := &s.patches[pi].Objs[oi]
		for fi := range o.Funcs {
			if o.Funcs[fi].Nop {
				o.Funcs[fi].Discarded = true
			}
		}
	}
}

// chooseVersion is the klp_ftrace_handler decision for a call of orig by
// task t: which code runs.
func (s *Sim) chooseVersion(t *Task, orig CodeID) CodeID {
	oi, ok := s.opsByCode[orig]
	if !ok {
		return orig
	}
	st := s.ops[oi].Stack
	var next FuncRef
	if len(st) > 1 {
		next = st[1]
	}
	run, _ := s.handlerPick(t, orig, st[0], s.fn(st[0]).Transition, next, len(st) > 1)
	return run
}

// handlerPick is klp_ftrace_handler's decision, from what it read: the
// func_stack's first entry (top), that entry's transition flag (tr) and
// the entry after it (next, if nextOK); the task's patch_state is read
// now. It returns the code that runs and how it was chosen.
func (s *Sim) handlerPick(t *Task, orig CodeID, top FuncRef, tr bool, next FuncRef, nextOK bool) (CodeID, string) {
	f, how := s.fn(top), "took the first entry"
	if tr {
		if t.PatchState == Idle {
			s.warnOnceOn("klp_ftrace_handler: patch_state == KLP_TRANSITION_IDLE", "kernel/livepatch/patch.c", "klp_ftrace_handler", t.PID, t.PID, t.CPU)
		}
		if t.PatchState == Unpatched {
			if !nextOK {
				return orig, "found no next entry"
			}
			f, how = s.fn(next), "took the next entry"
		}
	}
	if f.Nop {
		return orig, how
	}
	return f.NewCode, how
}
