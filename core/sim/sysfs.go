package sim

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// FSError is a failed file operation on the simulated sysfs or procfs,
// split as a shell sees it: the open of a redirection, or the write/read.
type FSError struct {
	Op   string // "open", "read" or "write"
	Path string
	Err  Errno
}

func (e *FSError) Error() string { return fmt.Sprintf("%s %s: %v", e.Op, e.Path, e.Err) }

// Unwrap gives the Errno.
func (e *FSError) Unwrap() error { return e.Err }

// DirEntry is one entry of a simulated directory.
type DirEntry struct {
	Name string
	Dir  bool
	Mode string // as ls -l shows it
}

type node struct {
	dir   func() []DirEntry
	mode  string // for files
	read  func() string
	write func(data string) error
}

const (
	modeDir = "drwxr-xr-x"
	modeRW  = "-rw-r--r--"
	modeRO  = "-r--r--r--"
	modeWO  = "--w-------"
	modeRO0 = "-r--------"
)

func intLine(v int) string { return strconv.Itoa(v) + "\n" }

// resolve finds the node for a path. A directory also lists the
// interface files served outside the tree below it (ifacePaths), and a
// directory that holds only such files exists: what cat reads, ls lists.
func (s *Sim) resolve(p string) (*node, bool) {
	s.compactTasks() // walks the tasks
	p = path.Clean("/" + p)
	n, ok := s.resolveTree(p)
	if ok && n.dir == nil {
		return n, true
	}
	implied := s.impliedDir(p)
	if len(implied) == 0 {
		return n, ok
	}
	if !ok {
		return &node{dir: func() []DirEntry { return implied }}, true
	}
	tree := n.dir
	return &node{mode: n.mode, dir: func() []DirEntry {
		out := tree()
		for _, e := range implied {
			if !slices.ContainsFunc(out, func(x DirEntry) bool { return x.Name == e.Name }) {
				out = append(out, e)
			}
		}
		return out
	}}, true
}

// ifacePaths lists the files ifaceFile serves, whose directories do not
// list them otherwise (produced files such as /proc/cmdline included).
func (s *Sim) ifacePaths() []string {
	ps := []string{"/dev/kmsg", "/proc/dynamic_debug/control", "/sys/kernel/debug/dynamic_debug/control",
		"/sys/kernel/debug/kprobes/enabled", "/sys/kernel/debug/kprobes/list"}
	for _, f := range tracerFiles {
		ps = append(ps, tracingDir+"/"+f, "/sys/kernel/debug/tracing/"+f)
	}
	for i := range s.mods {
		if m := &s.mods[i]; m.State == ModLive && m.Spec.Patch != nil && m.Spec.Patch.PidCount != nil {
			ps = append(ps, m.Spec.Patch.PidCount.File)
		}
	}
	for _, f := range s.syms.files {
		if _, _, ok := s.producedFile(f.Path); ok {
			ps = append(ps, f.Path)
		}
	}
	return ps
}

// impliedDirModes are the modes of the directories ifacePaths implies
// (debugfs's and tracefs's roots are root's alone); others are modeDir.
var impliedDirModes = map[string]string{
	"/sys/kernel/debug": "drwx------", "/sys/kernel/tracing": "drwx------",
	"/sys/kernel/debug/tracing": "drwx------", "/proc/dynamic_debug": "dr-xr-xr-x",
}

// impliedDir lists dir's entries that lead to an interface file, or nil.
func (s *Sim) impliedDir(dir string) []DirEntry {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	var out []DirEntry
	for _, f := range s.ifacePaths() {
		rest, ok := strings.CutPrefix(f, prefix)
		if !ok || rest == "" {
			continue
		}
		name, _, sub := strings.Cut(rest, "/")
		if slices.ContainsFunc(out, func(x DirEntry) bool { return x.Name == name }) {
			continue
		}
		e := DirEntry{Name: name, Dir: sub}
		if sub {
			e.Mode = impliedDirModes[prefix+name]
			if e.Mode == "" {
				e.Mode = modeDir
			}
		} else if n := s.ifaceFile(f); n != nil {
			e.Mode = n.mode
		}
		out = append(out, e)
	}
	return out
}

// resolveTree finds the node for a clean absolute path.
func (s *Sim) resolveTree(p string) (*node, bool) {
	if n := s.ifaceFile(p); n != nil {
		return n, true
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	switch {
	case p == "/":
		return &node{dir: func() []DirEntry { return []DirEntry{{"proc", true, modeDir}, {"sys", true, modeDir}} }}, true
	case p == "/sys":
		return &node{dir: func() []DirEntry {
			return []DirEntry{{"devices", true, modeDir}, {"kernel", true, modeDir}, {"module", true, modeDir}}
		}}, true
	case p == "/sys/kernel":
		return &node{dir: func() []DirEntry { return []DirEntry{{"livepatch", true, modeDir}} }}, true
	case p == "/sys/devices" || p == "/sys/devices/system":
		return &node{dir: func() []DirEntry {
			if p == "/sys/devices" {
				return []DirEntry{{"system", true, modeDir}}
			}
			return []DirEntry{{"cpu", true, modeDir}}
		}}, true
	case strings.HasPrefix(p, "/sys/devices/system/cpu"):
		return s.resolveCPU(parts[4:])
	case strings.HasPrefix(p, "/sys/kernel/livepatch"):
		return s.resolveKLP(parts[3:])
	case p == "/sys/module" || strings.HasPrefix(p, "/sys/module/"):
		return s.resolveModule(parts[2:])
	case p == "/proc":
		return &node{dir: func() []DirEntry {
			var out []DirEntry
			for i := range s.tasks {
				if s.tasks[i].TGID == s.tasks[i].PID {
					out = append(out, DirEntry{strconv.Itoa(s.tasks[i].PID), true, "dr-xr-xr-x"})
				}
			}
			return append(out, DirEntry{"sys", true, "dr-xr-xr-x"}) // produced files: impliedDir
		}}, true
	case p == "/proc/sys":
		return &node{dir: func() []DirEntry { return []DirEntry{{"kernel", true, "dr-xr-xr-x"}} }}, true
	case p == "/proc/sys/kernel":
		return &node{dir: func() []DirEntry { return []DirEntry{{"ftrace_enabled", false, modeRW}, {"tainted", false, modeRW}} }}, true
	case p == "/proc/sys/kernel/tainted":
		return &node{mode: modeRW, read: func() string { return strconv.FormatUint(s.Tainted(), 10) + "\n" }, write: s.writeTainted}, true
	case p == "/proc/sys/kernel/ftrace_enabled":
		return &node{mode: "-rw-r--r--", read: func() string { return intLine(b2i(!s.ftraceOff)) }, write: func(d string) error {
			v, err := strconv.Atoi(strings.TrimSpace(d))
			if err != nil {
				return EINVAL
			}
			if v == 0 && len(s.ops) > 0 {
				// ftrace_enable_sysctl: livepatch's ftrace_ops are
				// FTRACE_OPS_FL_PERMANENT.
				return EBUSY
			}
			s.ftraceOff = v == 0
			return nil
		}}, true
	case len(parts) >= 2 && parts[0] == "proc":
		return s.resolveProc(parts[1:])
	}
	return nil, false
}

func (s *Sim) resolveCPU(rest []string) (*node, bool) {
	if len(rest) == 0 {
		return &node{dir: func() []DirEntry {
			var out []DirEntry
			for _, c := range s.cpus {
				out = append(out, DirEntry{fmt.Sprintf("cpu%d", c.ID), true, modeDir})
			}
			return out
		}}, true
	}
	if !strings.HasPrefix(rest[0], "cpu") {
		return nil, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(rest[0], "cpu"))
	if err != nil || n < 0 || n >= len(s.cpus) || rest[0] != fmt.Sprintf("cpu%d", n) {
		return nil, false
	}
	if len(rest) == 1 {
		return &node{dir: func() []DirEntry { return []DirEntry{{"online", false, modeRW}} }}, true
	}
	if len(rest) == 2 && rest[1] == "online" {
		return &node{mode: modeRW, read: func() string { return intLine(b2i(s.cpus[n].Online)) }, write: func(d string) error {
			v, err := s.kstrtobool(d)
			if err != nil {
				return err
			}
			return s.SetCPUOnline(n, v)
		}}, true
	}
	return nil, false
}

func (s *Sim) resolveProc(rest []string) (*node, bool) {
	s.compactTasks() // walks the tasks
	pid, err := strconv.Atoi(rest[0])
	if err != nil || rest[0] != strconv.Itoa(pid) {
		return nil, false
	}
	t := s.task(pid)
	if t == nil {
		return nil, false
	}
	rest = rest[1:]
	if len(rest) >= 2 && rest[0] == "task" {
		tid, err := strconv.Atoi(rest[1])
		th := s.task(tid)
		if err != nil || th == nil || th.TGID != t.TGID {
			return nil, false
		}
		return s.procTask(tid, rest[2:])
	}
	if len(rest) == 1 && rest[0] == "task" {
		tgid := t.TGID
		return &node{dir: func() []DirEntry {
			var out []DirEntry
			for i := range s.tasks {
				if s.tasks[i].TGID == tgid {
					out = append(out, DirEntry{strconv.Itoa(s.tasks[i].PID), true, "dr-xr-xr-x"})
				}
			}
			return out
		}}, true
	}
	return s.procTask(pid, rest)
}

func (s *Sim) procTask(pid int, rest []string) (*node, bool) {
	if len(rest) == 0 {
		return &node{dir: func() []DirEntry {
			d := []DirEntry{{"comm", false, "-rw-r--r--"}, {"patch_state", false, modeRO0}, {"stack", false, modeRO0}, {"status", false, modeRO}}
			if t := s.task(pid); t != nil && t.TGID == t.PID {
				d = append(d, DirEntry{"task", true, "dr-xr-xr-x"})
			}
			return d
		}}, true
	}
	if len(rest) != 1 {
		return nil, false
	}
	get := func() *Task { return s.task(pid) }
	switch rest[0] {
	case "patch_state":
		return &node{mode: modeRO0, read: func() string { return intLine(get().PatchState) }}, true
	case "comm":
		return &node{mode: modeRO, read: func() string { return get().Comm + "\n" }}, true
	case "stack":
		return &node{mode: modeRO0, read: func() string {
			t := get()
			var b strings.Builder
			for i := len(t.Stack) - 1; i >= 0; i-- {
				b.WriteString("[<0>] " + s.frameText(t.Stack[i]) + "\n")
			}
			return b.String()
		}}, true
	case "status":
		return &node{mode: modeRO, read: func() string {
			t := get()
			return fmt.Sprintf("Name:\t%s\nState:\t%s (%s)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n", t.Comm, t.State.Letter(), t.State, t.TGID, t.PID, t.Parent)
		}}, true
	}
	return nil, false
}

func (s *Sim) listedPatch(name string) int {
	for _, pi := range s.list {
		if s.patches[pi].Mod == name {
			return pi
		}
	}
	return -1
}

func (s *Sim) resolveKLP(rest []string) (*node, bool) {
	if len(rest) == 0 {
		return &node{dir: func() []DirEntry {
			var out []DirEntry
			for _, pi := range s.list {
				out = append(out, DirEntry{s.patches[pi].Mod, true, modeDir})
			}
			sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
			return out
		}}, true
	}
	pi := s.listedPatch(rest[0])
	if pi < 0 {
		return nil, false
	}
	if len(rest) == 1 {
		return &node{dir: func() []DirEntry { return s.patchDir(pi) }}, true
	}
	if len(rest) == 2 {
		if n := s.patchAttr(pi, rest[1]); n != nil {
			return n, true
		}
	}
	oi := -1
	for i, o := range s.patches[pi].Objs {
		if o.Name == rest[1] {
			oi = i
		}
	}
	if oi < 0 {
		return nil, false
	}
	if len(rest) == 2 {
		return &node{dir: func() []DirEntry { return s.objDir(pi, oi) }}, true
	}
	if len(rest) == 3 && rest[2] == "patched" && s.prof.PatchedAttr() {
		return &node{mode: modeRO, read: func() string { return intLine(b2i(s.patches[pi].Objs[oi].Patched)) }}, true
	}
	if len(rest) == 3 {
		for _, e := range s.objDir(pi, oi) {
			if e.Dir && e.Name == rest[2] {
				return &node{dir: func() []DirEntry { return nil }}, true
			}
		}
	}
	return nil, false
}

func (s *Sim) patchDir(pi int) []DirEntry {
	var out []DirEntry
	for _, name := range []string{"enabled", "force", "replace", "signal", "stack_order", "transition"} {
		if n := s.patchAttr(pi, name); n != nil {
			out = append(out, DirEntry{name, false, n.mode})
		}
	}
	for _, o := range s.patches[pi].Objs {
		out = append(out, DirEntry{o.Name, true, modeDir})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Sim) objDir(pi, oi int) []DirEntry {
	var out []DirEntry
	for _, f := range s.patches[pi].Objs[oi].Funcs {
		if f.Discarded {
			continue
		}
		pos := f.Sympos
		if pos == 0 {
			pos = 1
		}
		out = append(out, DirEntry{fmt.Sprintf("%s,%d", f.Old, pos), true, modeDir})
	}
	if s.prof.PatchedAttr() {
		out = append(out, DirEntry{"patched", false, modeRO})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Sim) patchAttr(pi int, name string) *node {
	p := func() *Patch { return &s.patches[pi] }
	switch name {
	case "enabled":
		return &node{mode: modeRW, read: func() string { return intLine(b2i(p().Enabled)) }, write: func(d string) error { return s.enabledStore(pi, d) }}
	case "transition":
		return &node{mode: modeRO, read: func() string { return intLine(b2i(s.transition == pi)) }}
	case "force":
		if !s.prof.ForceAttr() {
			return nil
		}
		return &node{mode: modeWO, write: func(d string) error { return s.forceStore(pi, d) }}
	case "signal":
		if !s.prof.SignalAttr() {
			return nil
		}
		return &node{mode: modeWO, write: func(d string) error { return s.signalStore(pi, d) }}
	case "replace":
		if !s.prof.ReplaceAttr() {
			return nil
		}
		return &node{mode: modeRO, read: func() string { return intLine(b2i(p().Replace)) }}
	case "stack_order":
		if !s.prof.StackOrderAttr() {
			return nil
		}
		return &node{mode: modeRO, read: func() string {
			pos := s.listPos(pi)
			if pos < 0 {
				return intLine(len(s.list))
			}
			return intLine(pos + 1)
		}}
	}
	return nil
}

// kstrtobool parses what a sysfs write got, as the profile's kernel does.
func (s *Sim) kstrtobool(d string) (bool, error) {
	if d == "" {
		return false, EINVAL
	}
	switch d[0] {
	case 'y', 'Y', '1':
		return true, nil
	case 'n', 'N', '0':
		return false, nil
	case 't', 'T':
		if s.prof.KstrtoboolTF() {
			return true, nil
		}
	case 'f', 'F':
		if s.prof.KstrtoboolTF() {
			return false, nil
		}
	case 'e', 'E':
		if s.prof.KstrtoboolED() {
			return true, nil
		}
	case 'd', 'D':
		if s.prof.KstrtoboolED() {
			return false, nil
		}
	case 'o', 'O':
		if len(d) > 1 {
			switch d[1] {
			case 'n', 'N':
				return true, nil
			case 'f', 'F':
				return false, nil
			}
		}
	}
	return false, EINVAL
}

// enabledStore is enabled_store.
func (s *Sim) enabledStore(pi int, d string) error {
	v, err := s.kstrtobool(d)
	if err != nil {
		return err
	}
	p := &s.patches[pi]
	if p.Enabled == v {
		return EINVAL // already in the requested state
	}
	if pi == s.transition {
		s.reverseTransition()
		return nil
	}
	if !v {
		// p.Enabled holds here, so __klp_disable_patch's WARN_ON cannot fire.
		return s.disablePatch(pi)
	}
	if s.prof.Registration() {
		return s.enablePatch(pi)
	}
	return EINVAL // a disabled patch cannot be re-enabled since v5.1
}

// forceStore is force_store.
func (s *Sim) forceStore(pi int, d string) error {
	v, err := s.kstrtobool(d)
	if err != nil {
		return err
	}
	if !v {
		return nil
	}
	if pi != s.transition {
		return EINVAL
	}
	s.forceTransition()
	return nil
}

// signalStore is the v4.16-v5.0 signal_store.
func (s *Sim) signalStore(pi int, d string) error {
	v, err := s.kstrtobool(d)
	if err != nil {
		return err
	}
	if !v {
		return nil
	}
	if pi != s.transition {
		return EINVAL
	}
	s.sendSignals(true)
	return nil
}

// ReadFile reads a simulated sysfs or procfs file.
func (s *Sim) ReadFile(p string) (string, error) {
	n, ok := s.resolve(p)
	if !ok {
		return "", &FSError{"open", p, ENOENT}
	}
	if n.dir != nil {
		return "", &FSError{"read", p, EISDIR}
	}
	if n.read == nil {
		return "", &FSError{"open", p, EACCES}
	}
	return n.read(), nil
}

// writeFile writes data (as echo would, usually with a trailing newline).
// Nothing changes when the write fails.
func (s *Sim) writeFile(p, data string) error {
	n, ok := s.resolve(p)
	if !ok {
		parent, pok := s.resolve(path.Dir(path.Clean("/" + p)))
		if c := path.Clean("/" + p); pok && parent.dir != nil && !strings.HasPrefix(c, "/proc") && !strings.HasPrefix(c, "/dev") {
			return &FSError{"open", p, EACCES} // sysfs, tracefs and debugfs cannot create files
		}
		return &FSError{"open", p, ENOENT}
	}
	if n.dir != nil {
		return &FSError{"open", p, EISDIR}
	}
	if n.write == nil {
		return &FSError{"open", p, EACCES}
	}
	if data == "" {
		return nil // sysfs_kf_write: a zero-length write does nothing
	}
	if s.gp.Patch >= 0 && strings.HasPrefix(path.Clean("/"+p), "/sys/kernel/livepatch/") {
		return s.klpMutexHeld() // the stores take klp_mutex (after open)
	}
	if err := n.write(data); err != nil {
		e, ok := err.(Errno)
		if !ok {
			e = EINVAL
		}
		return &FSError{"write", p, e}
	}
	return nil
}

// ReadDir lists a simulated directory.
func (s *Sim) ReadDir(p string) ([]DirEntry, error) {
	n, ok := s.resolve(p)
	if !ok {
		return nil, &FSError{"open", p, ENOENT}
	}
	if n.dir == nil {
		return nil, &FSError{"open", p, ENOTDIR}
	}
	return n.dir(), nil
}

// Stat tells whether a path exists and whether it is a directory.
func (s *Sim) Stat(p string) (exists, dir bool, mode string) {
	n, ok := s.resolve(p)
	if !ok {
		return false, false, ""
	}
	if n.dir != nil {
		return true, true, modeDir
	}
	return true, false, n.mode
}

// resolveModule serves /sys/module/<m>/{refcnt,parameters/<p>} for loaded
// modules.
func (s *Sim) resolveModule(rest []string) (*node, bool) {
	if len(rest) == 0 {
		return &node{dir: func() []DirEntry {
			var out []DirEntry
			for _, m := range s.mods {
				if m.State != ModUnloaded {
					out = append(out, DirEntry{m.Spec.Name, true, modeDir})
				}
			}
			sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
			return out
		}}, true
	}
	name := rest[0]
	m := s.module(name)
	if m == nil || m.State == ModUnloaded {
		return nil, false
	}
	spec := m.Spec
	switch {
	case len(rest) == 1:
		return &node{dir: func() []DirEntry {
			d := []DirEntry{{"refcnt", false, modeRO}, {"taint", false, modeRO}}
			if len(spec.Params) > 0 {
				d = append(d, DirEntry{"parameters", true, modeDir})
			}
			return d
		}}, true
	case len(rest) == 2 && rest[1] == "refcnt":
		return &node{mode: modeRO, read: func() string { return intLine(s.ModuleRefcnt(name)) }}, true
	case len(rest) == 2 && rest[1] == "taint":
		// the module's own taints: K for a livepatch module (the
		// modules here are otherwise in-tree and signed)
		return &node{mode: modeRO, read: func() string {
			if spec.Patch != nil && !spec.NotLivepatch {
				return "K\n"
			}
			return "\n"
		}}, true
	case len(rest) == 2 && rest[1] == "parameters" && len(spec.Params) > 0:
		return &node{dir: func() []DirEntry {
			var d []DirEntry
			for _, p := range spec.Params {
				d = append(d, DirEntry{p.Name, false, modeRW})
			}
			return d
		}}, true
	case len(rest) == 3 && rest[1] == "parameters":
		i := paramIndex(spec.Params, rest[2])
		if i < 0 {
			return nil, false
		}
		return &node{mode: modeRW, read: func() string { v, _ := s.param(name, rest[2]); return v + "\n" },
			write: func(d string) error {
				v, ok := s.paramValue(spec.Params[i], d)
				if !ok {
					return EINVAL
				}
				s.module(name).Params[i] = v
				return nil
			}}, true
	}
	return nil, false
}

// taintLivepatch is 1 << TAINT_LIVEPATCH.
const taintLivepatch = 1 << 15

// Tainted is /proc/sys/kernel/tainted: TAINT_LIVEPATCH once a livepatch
// module has loaded, and whatever was written there.
func (s *Sim) Tainted() uint64 {
	if s.tainted {
		return s.taint | taintLivepatch
	}
	return s.taint
}

// writeTainted is proc_taint: taint can only grow. The value is an
// unsigned long (proc_doulongvec_minmax: EINVAL otherwise); each flag bit
// set in it is added, bits past the flags are ignored, and no message is
// printed (add_taint with LOCKDEP_STILL_OK).
func (s *Sim) writeTainted(d string) error {
	d = strings.TrimSpace(d)
	if d == "" {
		return nil // no number, nothing written
	}
	v, err := strconv.ParseUint(d, 0, 64)
	if err != nil {
		return EINVAL
	}
	// (a K written here leaves the loader's notice to come: it is
	// pr_notice_once, not a test of the taint)
	s.taint |= v & (1<<s.prof.taintFlags() - 1)
	return nil
}
