package scenario

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

var shellVerbs = map[string]bool{"insmod": true, "modprobe": true, "rmmod": true, "echo": true, "cat": true, "ls": true, "dmesg": true, "ps": true, "kill": true, "sleep": true, "sysctl": true}

func isShell(v string) bool { return shellVerbs[v] }

// kmodStrerror is kmod's mod_strerror: what insmod prints for an errno.
func kmodStrerror(e sim.Errno) string {
	switch e {
	case sim.ENOEXEC:
		return "Invalid module format"
	case sim.ENOENT:
		return "Unknown symbol in module"
	case sim.ESRCH:
		return "Module has wrong symbol version"
	case sim.EINVAL:
		return "Invalid parameters"
	}
	return e.Error()
}

func asErrno(err error) sim.Errno {
	var fe *sim.FSError
	if errors.As(err, &fe) {
		return fe.Err
	}
	var e sim.Errno
	if errors.As(err, &e) {
		return e
	}
	return sim.EINVAL
}

func (s *Session) shell(st Stmt) ([]Out, error) {
	out := []Out{{Kind: "cmd", Text: "# " + st.line()}}
	s.lastErr = 0
	// A command's kernel log lines come before what the command itself
	// prints when it fails, as on a terminal.
	fail := func(e sim.Errno, text string) ([]Out, error) {
		s.lastErr = e
		out = s.drain(out)
		return append(out, Out{Kind: "stderr", Text: text}), nil
	}
	m := s.sim
	a := st.Args
	switch st.Verb {
	case "insmod", "modprobe":
		name := modName(a[0].Val)
		if !contains(m.ModuleNames(), name) {
			if st.Verb == "modprobe" {
				return fail(sim.ENOENT, fmt.Sprintf("modprobe: FATAL: Module %s not found in directory /lib/modules/%s", name, m.Profile()))
			}
			hint := ""
			if n := nearest(name, m.ModuleNames()); n != "" {
				hint = fmt.Sprintf(" (declared modules include %s)", n)
			}
			return fail(sim.ENOENT, fmt.Sprintf("insmod: ERROR: could not load module %s: No such file or directory%s", a[0].Val, hint))
		}
		var params []string
		for _, x := range a[1:] {
			params = append(params, x.String0())
		}
		if err := m.InsmodParams(name, params); err != nil {
			e := asErrno(err)
			if st.Verb == "modprobe" {
				return fail(e, fmt.Sprintf("modprobe: ERROR: could not insert '%s': %s", name, e.Error()))
			}
			return fail(e, fmt.Sprintf("insmod: ERROR: could not insert module %s: %s", a[0].Val, kmodStrerror(e)))
		}
	case "rmmod":
		name := modName(a[0].Val)
		if m.ModuleState(name) == sim.ModUnloaded {
			return fail(sim.ENOENT, fmt.Sprintf("rmmod: ERROR: Module %s is not currently loaded", name))
		}
		if err := m.Rmmod(name); err != nil {
			e := asErrno(err)
			if e == sim.EBUSY {
				return fail(e, fmt.Sprintf("rmmod: ERROR: Module %s is in use", name))
			}
			return fail(e, fmt.Sprintf("rmmod: ERROR: could not remove module %s: %s", name, e.Error()))
		}
	case "echo":
		return s.echo(st, out)
	case "cat":
		for _, x := range a {
			data, err := m.ReadFile(x.Val)
			if err != nil {
				o, _ := fail(asErrno(err), fmt.Sprintf("cat: %s: %s", x.Val, asErrno(err).Error()))
				out = o
				continue
			}
			for _, l := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
				if data != "" {
					out = append(out, Out{Kind: "stdout", Text: l})
				}
			}
		}
	case "ls":
		return s.ls(st, out)
	case "dmesg":
		return s.dmesg(st, out)
	case "ps":
		out = append(out, Out{Kind: "stdout", Text: "    PID    TID S PATCH COMMAND"})
		for _, pid := range m.PIDs() {
			t, _ := m.Task(pid)
			c := t.Comm
			if t.Kind == sim.Kthread {
				c = "[" + c + "]"
			}
			out = append(out, Out{Kind: "stdout", Text: fmt.Sprintf("%7d %6d %s %5d %s", t.TGID, t.PID, t.State.Letter(), t.PatchState, c)})
		}
	case "kill":
		sig := strings.TrimPrefix(a[0].Val, "-")
		switch sig {
		case "9":
			sig = "KILL"
		case "15":
			sig = "TERM"
		case "19":
			sig = "STOP"
		case "18":
			sig = "CONT"
		}
		for _, x := range a[1:] {
			pid, err := s.pid(x)
			if err != nil {
				return nil, err
			}
			if !m.TaskExists(pid) {
				o, _ := fail(sim.ESRCH, fmt.Sprintf("bash: kill: (%d) - No such process", pid))
				out = o
				continue
			}
			if err := m.Kill(pid, sig); err != nil {
				return nil, s.errf(a[0].Pos, "%v", err)
			}
		}
	case "sysctl":
		return s.sysctl(st, out)
	case "sleep":
		sec, ok := parseSeconds(a[0].Val)
		if !ok {
			return nil, s.errf(a[0].Pos, "sleep takes seconds (0..3600), got %q", a[0].Val)
		}
		m.AdvanceSeconds(sec)
	}
	return out, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Session) echo(st Stmt, out []Out) ([]Out, error) {
	a := st.Args
	newline := true
	if len(a) > 0 && a[0].Val == "-n" && !a[0].Quoted {
		newline = false
		a = a[1:]
	}
	var words []string
	target := ""
	for i := 0; i < len(a); i++ {
		x := a[i]
		if !x.Quoted && (x.Val == ">" || strings.HasPrefix(x.Val, ">")) {
			t := strings.TrimPrefix(x.Val, ">")
			if t == "" && i+1 < len(a) {
				t = a[i+1].Val
				i++
			}
			if t == "" {
				return nil, s.errf(x.Pos, "echo: redirection without a file")
			}
			target = t
			continue
		}
		words = append(words, x.String0())
	}
	data := strings.Join(words, " ")
	if newline {
		data += "\n"
	}
	if target == "" {
		return append(out, Out{Kind: "stdout", Text: strings.TrimSuffix(data, "\n")}), nil
	}
	if err := s.sim.WriteFile(target, data); err != nil {
		var fe *sim.FSError
		errors.As(err, &fe)
		s.lastErr = fe.Err
		if fe.Op == "open" {
			return append(out, Out{Kind: "stderr", Text: fmt.Sprintf("bash: %s: %s", target, fe.Err.Error())}), nil
		}
		return append(out, Out{Kind: "stderr", Text: "bash: echo: write error: " + fe.Err.Error()}), nil
	}
	return out, nil
}

// String0 is the word as echo receives it (quotes removed).
func (a Arg) String0() string {
	if a.Key != "" {
		return a.Key + "=" + a.Val
	}
	return a.Val
}

func (s *Session) ls(st Stmt, out []Out) ([]Out, error) {
	long := false
	var paths []string
	for _, x := range st.Args {
		if x.Val == "-l" || x.Val == "-la" || x.Val == "-al" {
			long = true
			continue
		}
		paths = append(paths, x.Val)
	}
	if len(paths) == 0 {
		paths = []string{"/sys/kernel/livepatch"}
	}
	for _, p := range paths {
		ents, err := s.sim.ReadDir(p)
		if err != nil {
			e := asErrno(err)
			if e == sim.ENOTDIR {
				if _, _, mode := s.sim.Stat(p); long {
					out = append(out, Out{Kind: "stdout", Text: fmt.Sprintf("%s 1 root root 0 %s", mode, p)})
				} else {
					out = append(out, Out{Kind: "stdout", Text: p})
				}
				continue
			}
			s.lastErr = e
			out = append(out, Out{Kind: "stderr", Text: fmt.Sprintf("ls: cannot access '%s': %s", p, e.Error())})
			continue
		}
		if len(paths) > 1 {
			out = append(out, Out{Kind: "stdout", Text: p + ":"})
		}
		sort.Slice(ents, func(i, j int) bool { return ents[i].Name < ents[j].Name })
		for _, e := range ents {
			if long {
				out = append(out, Out{Kind: "stdout", Text: fmt.Sprintf("%s 1 root root 0 %s", e.Mode, e.Name)})
			} else {
				out = append(out, Out{Kind: "stdout", Text: e.Name})
			}
		}
	}
	return out, nil
}

func (s *Session) dmesg(st Stmt, out []Out) ([]Out, error) {
	maxLevel := sim.LevelDebug
	for i := 0; i < len(st.Args); i++ {
		x := st.Args[i]
		switch {
		case x.Val == "-C" || x.Val == "-c":
			if x.Val == "-c" {
				out = s.printLog(out, maxLevel)
			}
			s.sim.DmesgClear()
			s.mark = len(s.sim.Log())
			return out, nil
		case x.Val == "-l" && i+1 < len(st.Args):
			l, ok := sim.ParseLevel(st.Args[i+1].Val)
			if !ok {
				return nil, s.errf(st.Args[i+1].Pos, "unknown log level %q", st.Args[i+1].Val)
			}
			maxLevel = l
			i++
		default:
			return nil, s.errf(x.Pos, "dmesg takes -C, -c or -l LEVEL")
		}
	}
	return s.printLog(out, maxLevel), nil
}

func (s *Session) printLog(out []Out, maxLevel sim.Level) []Out {
	for _, l := range s.sim.Dmesg() {
		if l.Level <= maxLevel {
			out = append(out, Out{Kind: "stdout", Text: l.Dmesg()})
		}
	}
	return out
}
