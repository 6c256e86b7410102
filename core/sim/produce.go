package sim

import (
	"fmt"
	"path"
	"strings"
)

// Files that code produces. A /proc or /sys file is backed by a function
// (a seq_file show routine, a sysfs attribute's show): reading it makes
// the reading task call that function, through the ftrace handler, and
// prints what the version that ran produces. So `cat /proc/cmdline` gives
// "this has been live patched" once livepatch-sample's replacement runs
// for the reader, and during a transition it depends on the reader's
// patch_state. A file backed by a module's function exists while that
// module is loaded, and is read-only (writing fails at open with EACCES).

// ProducedFile declares such a file.
type ProducedFile struct {
	Path string // /proc/cmdline, /proc/test_klp_mod_target, /sys/…
	Func string // the function that produces it: name, obj:name or name,sympos
	Text string // what the original function prints
}

// AddProducedFile declares a file produced by code.
func (s *Sim) AddProducedFile(f ProducedFile) error {
	p := path.Clean("/" + f.Path)
	if p != f.Path || !(strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/sys/")) {
		return fmt.Errorf("file %q: want an absolute /proc/… or /sys/… path", f.Path)
	}
	if f.Func == "" {
		return fmt.Errorf("file %s: no function produces it", f.Path)
	}
	for _, o := range s.syms.files {
		if o.Path == p {
			return fmt.Errorf("file %s declared twice", p)
		}
	}
	if _, taken := s.resolve(p); taken {
		return fmt.Errorf("file %s: the kernel already provides it", p)
	}
	s.syms.files = append(s.syms.files, f)
	return nil
}

// producedFile returns the declared file at p whose function is loaded.
func (s *Sim) producedFile(p string) (ProducedFile, CodeID, bool) {
	for _, f := range s.syms.files {
		if f.Path != p {
			continue
		}
		if _, id, err := s.ResolveFunc(f.Func); err == nil && s.code[id].ForPatch == "" {
			return f, id, true
		}
	}
	return ProducedFile{}, NoCode, false
}

// producedNode serves a produced file to a read that no task makes (the
// shell is not a task): it shows what a user task that has passed kernel
// exit runs — the top of the function's func_stack, or during a
// transition the version of the transition's target state.
func (s *Sim) producedNode(p string) (*node, bool) {
	f, orig, ok := s.producedFile(p)
	if !ok {
		return nil, false
	}
	return &node{mode: modeRO, read: func() string {
		t := Task{PatchState: s.target}
		if s.target == Idle {
			t.PatchState = Patched // no transition: the top of the stack
		}
		return s.printed(f, s.chooseVersion(&t, orig)) + "\n"
	}}, true
}

// printed is what code run prints for file f.
func (s *Sim) printed(f ProducedFile, run CodeID) string {
	c := &s.code[run]
	if c.ForPatch == "" {
		return f.Text
	}
	if m := s.module(c.ForPatch); m != nil && m.Spec.Patch != nil {
		for _, o := range m.Spec.Patch.Objects {
			for _, fs := range o.Funcs {
				if fs.New == c.Name && fs.Prints != "" {
					return strings.ReplaceAll(fs.Prints, "{mod}", c.ForPatch)
				}
			}
		}
	}
	return f.Text
}

// ReadAs reads a produced file as task pid: the task calls the file's
// function through the ftrace handler (Call, so hooks and events happen
// as for any call), the text of the version that ran is the result, and
// the task returns (and, if it came from user mode, goes back through
// kernel exit). Files that are not produced by code read as ReadFile.
func (s *Sim) ReadAs(pid int, p string) (string, error) {
	f, _, ok := s.producedFile(p)
	if !ok {
		return s.ReadFile(p)
	}
	t := s.task(pid)
	if t == nil {
		return "", fmt.Errorf("read %s: no task %d", p, pid)
	}
	fromUser := !t.InKernel
	if err := s.Call(pid, f.Func, 0); err != nil {
		return "", fmt.Errorf("read %s: %v", p, err)
	}
	t = s.task(pid)
	out := s.printed(f, t.Stack[len(t.Stack)-1].Code) + "\n"
	if err := s.Return(pid); err != nil {
		return "", err
	}
	if fromUser && len(s.task(pid).Stack) == 0 {
		if err := s.SyscallExit(pid); err != nil {
			return "", err
		}
	}
	return out, nil
}

// Produced tells whether code produces the file at p (a `file`
// declaration): reading it runs that code.
func (s *Sim) Produced(p string) bool {
	_, _, ok := s.producedFile(p)
	return ok
}
