package scenario

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

// shellVerbs are the commands a root shell on the box would run.
var shellVerbs = []Verb{
	{Name: "insmod", Min: 1, Usage: "insmod NAME[.ko] [param=value …]", Run: (*Session).insmod, Complete: args(nil, cModules),
		Doc: "load a module (a path prefix such as `test_modules/` is dropped; unknown parameters are ignored with the kernel's warning)"},
	{Name: "modprobe", Min: 1, Usage: "modprobe NAME", Run: (*Session).insmod, Complete: args(nil, cModules),
		Doc: "load a module by name"},
	{Name: "rmmod", Min: 1, Usage: "rmmod NAME", Run: (*Session).rmmod, Complete: args(nil, cModules),
		Doc: "unload a module"},
	{Name: "echo", Min: 0, Usage: "echo [-n] VALUE > PATH", Run: (*Session).echo, Complete: args(nil, words("1", "0", "-n")),
		Doc: "write a file"},
	{Name: "cat", Min: 1, Usage: "cat PATH…", Run: (*Session).cat, Complete: args(nil, words("/sys/kernel/livepatch/", "/proc/")),
		Doc: "read files"},
	{Name: "ls", Min: 0, Usage: "ls [-l] [PATH]", Run: (*Session).ls, Complete: args(nil, words("-l", "/sys/kernel/livepatch/", "/proc/")),
		Doc: "list a directory (default /sys/kernel/livepatch)"},
	{Name: "dmesg", Min: 0, Usage: "dmesg [-l LEVEL] [-C|-c]", Run: (*Session).dmesg, Complete: args(nil, words("-C", "-c", "-l")),
		Doc: "print the kernel log; `-C` clears what `dmesg`, `klp run -dmesg` and `expect log` see from then on (the records stay in the buffer), `-c` prints then clears"},
	{Name: "sysctl", Min: 1, Usage: "sysctl [-q] [-n|--values] KEY[=VALUE]…", Run: (*Session).sysctl, Complete: args(nil, words("kernel.ftrace_enabled", "-q", "-n")),
		Doc: "procps's sysctl over `/proc/sys` (`sysctl kernel.ftrace_enabled=0`), with its messages"},
	{Name: "ps", Min: 0, Usage: "ps", Run: (*Session).ps,
		Doc: "list the tasks with their patch state"},
	{Name: "kill", Min: 2, Usage: "kill -STOP|-CONT|-KILL PID", Run: (*Session).kill, Complete: args(cPIDs, words("-STOP", "-CONT", "-KILL")),
		Doc: "send a signal; a task stopped by SIGSTOP sleeps in `get_signal`, `do_signal_stop`, `schedule` (those `vmlinux` declares), which the stack check sees"},
	{Name: "sleep", Min: 1, Usage: "sleep SECONDS", Run: whole((*Session).sleep), Parts: (*Session).sleep,
		Doc: "time passes"},
}

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

// modprobeStrerror is kmod's modprobe's text for a failed insert (its
// insmod_insert): two errors spelled out, strerror for the rest — so
// EINVAL is "Invalid argument" here but "Invalid parameters" in insmod.
func modprobeStrerror(e sim.Errno) string {
	switch e {
	case sim.EEXIST:
		return "Module already in kernel"
	case sim.ENOENT:
		return "Unknown symbol in module, or unknown parameter (see dmesg)"
	}
	return e.Error()
}

// fail records a command's errno and prints its complaint after the
// kernel log lines the command caused, as on a terminal.
func (s *Session) fail(out []Out, e sim.Errno, text string) []Out {
	s.lastErr = e
	out = s.drain(out)
	return append(out, Out{Kind: "stderr", Text: text})
}

// insmod runs insmod and modprobe.
func (s *Session) insmod(st Stmt, out []Out) (res []Out, _ error) {
	if err := s.shellBusy(st); err != nil {
		return nil, err
	}
	m := s.sim
	a := st.Args
	name := modName(a[0].Val)
	if !slices.Contains(m.ModuleNames(), name) {
		if st.Verb == "modprobe" {
			return s.fail(out, sim.ENOENT, fmt.Sprintf("modprobe: FATAL: Module %s not found in directory /lib/modules/%s", name, m.Profile())), nil
		}
		if s.busybox {
			return s.fail(out, sim.ENOENT, busyboxInsmod(a[0].Val, sim.ENOENT, true)), nil
		}
		hint := ""
		if n := nearest(name, m.ModuleNames()); n != "" {
			hint = fmt.Sprintf(" (declared modules include %s)", n)
		}
		return s.fail(out, sim.ENOENT, fmt.Sprintf("insmod: ERROR: could not load module %s: No such file or directory%s", a[0].Val, hint)), nil
	}
	var params []string
	for _, x := range a[1:] {
		params = append(params, x.Word())
	}
	out, ok := s.klpMutex(out, st.Verb, false)
	if !ok {
		return out, nil
	}
	defer func() { res, _ = s.klpMutex(res, st.Verb, true) }()
	if err := m.InsmodParams(name, params); err != nil {
		if out, ok := s.shellAsleep(out, err, st.Verb, a[0].Val); ok {
			return out, nil
		}
		e := sim.ErrnoOf(err)
		if st.Verb == "modprobe" {
			return s.fail(out, e, fmt.Sprintf("modprobe: ERROR: could not insert '%s': %s", name, modprobeStrerror(e))), nil
		}
		if s.busybox {
			return s.fail(out, e, busyboxInsmod(a[0].Val, e, false)), nil
		}
		return s.fail(out, e, fmt.Sprintf("insmod: ERROR: could not insert module %s: %s", a[0].Val, kmodStrerror(e))), nil
	}
	return out, nil
}

func (s *Session) rmmod(st Stmt, out []Out) ([]Out, error) {
	if err := s.shellBusy(st); err != nil {
		return nil, err
	}
	m := s.sim
	name := modName(st.Args[0].Val)
	if s.busybox {
		return s.busyboxRmmod(out, name), nil
	}
	if m.ModuleState(name) == sim.ModUnloaded {
		return s.fail(out, sim.ENOENT, fmt.Sprintf("rmmod: ERROR: Module %s is not currently loaded", name)), nil
	}
	// kmod's rmmod checks holders and the refcount itself and then
	// fails with EBUSY without calling delete_module (which would
	// return EAGAIN).
	if h := m.Holders(name); len(h) > 0 {
		return s.fail(out, sim.EBUSY, fmt.Sprintf("rmmod: ERROR: Module %s is in use by: %s", name, strings.Join(h, " "))), nil
	}
	if m.ModuleRefcnt(name) != 0 {
		return s.fail(out, sim.EBUSY, fmt.Sprintf("rmmod: ERROR: Module %s is in use", name)), nil
	}
	out, ok := s.klpMutex(out, "rmmod", false)
	if !ok {
		return out, nil
	}
	if err := m.Rmmod(name); err != nil {
		if out, ok := s.shellAsleep(out, err, "rmmod", name); ok {
			return out, nil
		}
		e := sim.ErrnoOf(err)
		return s.fail(out, e, fmt.Sprintf("rmmod: ERROR: could not remove module %s: %s", name, e.Error())), nil
	}
	return out, nil
}

func (s *Session) cat(st Stmt, out []Out) ([]Out, error) {
	for _, x := range st.Args {
		data, err := s.readAsShell(x.Val)
		if _, fs := err.(*sim.FSError); err != nil && !fs && !isErrno(err) {
			return out, s.errf(x.Pos, "%v", err) // the shell's task cannot read now
		}
		if err != nil {
			out = s.fail(out, sim.ErrnoOf(err), fmt.Sprintf("cat: %s: %s", x.Val, sim.ErrnoOf(err).Error()))
			continue
		}
		for _, l := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
			if data != "" {
				out = append(out, Out{Kind: "stdout", Text: l})
			}
		}
	}
	return out, nil
}

func (s *Session) ps(st Stmt, out []Out) ([]Out, error) {
	m := s.sim
	out = append(out, Out{Kind: "stdout", Text: "    PID    TID S PATCH COMMAND"})
	for _, pid := range m.PIDs() {
		t, _ := m.Task(pid)
		c := t.Comm
		if t.Kind == sim.Kthread {
			c = "[" + c + "]"
		}
		out = append(out, Out{Kind: "stdout", Text: fmt.Sprintf("%7d %6d %s %5d %s", t.TGID, t.PID, t.State.Letter(), t.PatchState, c)})
	}
	return out, nil
}

func (s *Session) kill(st Stmt, out []Out) ([]Out, error) {
	m := s.sim
	a := st.Args
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
			out = s.fail(out, sim.ESRCH, fmt.Sprintf("bash: kill: (%d) - No such process", pid))
			continue
		}
		if err := m.Kill(pid, sig); err != nil {
			return nil, s.errf(a[0].Pos, "%v", err)
		}
	}
	return out, nil
}

func (s *Session) sleep(st Stmt, out []Out) (part, error) {
	a := st.Args
	sec, ok := parseSeconds(a[0].Val)
	if !ok {
		return nil, s.errf(a[0].Pos, "sleep takes seconds (0..3600), got %q", a[0].Val)
	}
	if sec <= 0 {
		return s.advanceParts(0, out), nil
	}
	return s.advanceParts(uint64(sec*float64(s.sim.HZ())+0.5), out), nil
}

func (s *Session) echo(st Stmt, out []Out) (res []Out, _ error) {
	if err := s.shellBusy(st); err != nil {
		return nil, err
	}
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
		words = append(words, x.Word())
	}
	data := strings.Join(words, " ")
	if newline {
		data += "\n"
	}
	if target == "" {
		return append(out, Out{Kind: "stdout", Text: strings.TrimSuffix(data, "\n")}), nil
	}
	if strings.HasPrefix(path.Clean("/"+target), "/sys/kernel/livepatch/") {
		// the livepatch attributes' stores take klp_mutex
		var ok bool
		if out, ok = s.klpMutex(out, "echo", false); !ok {
			return out, nil
		}
		defer func() { res, _ = s.klpMutex(res, "echo", true) }()
	}
	if err := s.sim.WriteFile(target, data); err != nil {
		if out, ok := s.shellAsleep(out, err, "echo", target); ok {
			return out, nil
		}
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

// Word is the argument as a program receives it from the shell: quotes
// removed, key=value joined again.
func (a Arg) Word() string {
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
			e := sim.ErrnoOf(err)
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
			s.mark = s.sim.LogBase() + len(s.sim.Log())
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

// logSince returns the log records from Seq seq on that the ring still
// holds.
func (s *Session) logSince(seq int) []sim.LogLine {
	log, base := s.sim.Log(), s.sim.LogBase()
	return log[min(max(seq-base, 0), len(log)):]
}

// blockLimit bounds how long a shell command waits on klp_mutex before
// the scenario gives up on it (a grace period some task holds up for
// ever never ends).
const blockLimit = 60

// klpMutex is a command that takes klp_mutex: while an unpatch's
// completion holds it, waiting for an RCU Tasks grace period (the sim's
// wait.go), the command blocks and simulated time passes. before: the
// command has not run yet (false: it still cannot, and will not);
// otherwise it ran and is the writer whose own completion waits, which
// returns only when the grace period ends. A note says what blocked.
func (s *Session) klpMutex(out []Out, cmd string, after bool) ([]Out, bool) {
	m := s.sim
	if p, _ := m.Completing(); p == "" || s.shell != 0 {
		// a declared shell sleeps in the kernel instead (shellAsleep)
		return out, true
	}
	start := m.Now()
	if m.RunUntilUnlocked(uint64(blockLimit * m.HZ())) {
		out = s.drain(out)
		text := fmt.Sprintf("%s waited %.3fs for klp_mutex: klp_complete_transition held it during an RCU Tasks grace period", cmd, float64(m.Now()-start)/1e9)
		if after {
			text = fmt.Sprintf("%s returned after %.3fs: its own klp_complete_transition waited, klp_mutex held, for an RCU Tasks grace period", cmd, float64(m.Now()-start)/1e9)
		}
		return append(out, Out{Kind: "note", Text: text}), true
	}
	out = s.drain(out)
	p, who := m.Completing()
	held := "nothing named holds it, yet it has not ended"
	if len(who) > 0 {
		held = "held up by " + strings.Join(who, ", ") + " (on a CPU in the kernel, never sleeping)"
	}
	what := fmt.Sprintf("%s is still blocked on klp_mutex after %ds and would not return", cmd, blockLimit)
	if after {
		what = fmt.Sprintf("%s has not returned after %ds: its write's unpatch waits", cmd, blockLimit)
	}
	out = append(out, Out{Kind: "note", Text: fmt.Sprintf("%s: klp_complete_transition of '%s' waits for an RCU Tasks grace period, %s", what, p, held)})
	return out, false
}

// shellBusy refuses a command while the declared shell sleeps in an
// earlier one: it reads no new line until that returns.
func (s *Session) shellBusy(st Stmt) error {
	if s.shell == 0 {
		return nil
	}
	if w := s.sim.ShellWaiting(); w != "" {
		return s.errf(st.Pos, "%s: the shell (task %d) sleeps (D) in its %s and runs nothing until that returns; let time pass (sleep, until wait wait=end)", st.Verb, s.shell, w)
	}
	return nil
}

// asleepCmd is the shell command the declared shell sleeps in: what its
// complaint names when it returns with an error.
type asleepCmd struct{ verb, arg string }

// shellAsleep turns a command that put the declared shell to sleep in the
// kernel (sim.ShellBlocked) into a note: it has not returned, and the
// scenario goes on; the sim finishes it when klp_mutex is free, and drain
// prints its complaint then (returned).
func (s *Session) shellAsleep(out []Out, err error, verb, arg string) ([]Out, bool) {
	var b *sim.ShellBlocked
	if !errors.As(err, &b) {
		return out, false
	}
	s.asleep = asleepCmd{verb, arg}
	return append(out, Out{Kind: "note", Text: b.Error()}), true
}

// returned prints what the command the shell slept in prints on its way
// out (nothing on success), as the shell's tool would have at once.
func (s *Session) returned(out []Out, r *sim.CmdReturn) []Out {
	c := s.asleep
	s.asleep = asleepCmd{}
	e, ok := sim.ParseErrno(r.Errno)
	if !ok {
		return out
	}
	s.lastErr = e
	var text string
	switch c.verb {
	case "echo":
		text = "bash: echo: write error: " + e.Error()
	case "modprobe":
		text = fmt.Sprintf("modprobe: ERROR: could not insert '%s': %s", modName(c.arg), modprobeStrerror(e))
	case "insmod":
		text = fmt.Sprintf("insmod: ERROR: could not insert module %s: %s", c.arg, kmodStrerror(e))
	case "rmmod":
		text = fmt.Sprintf("rmmod: ERROR: could not remove module %s: %s", c.arg, e.Error())
	default:
		return out
	}
	return append(out, Out{Kind: "stderr", Text: text})
}

// readAsShell reads a file as cat in the shell does: as the shell's task
// when one is declared (`shell PID`; a file that code produces runs that
// code through the ftrace handler as it), else as a task in the
// transition's target state would.
func (s *Session) readAsShell(p string) (string, error) {
	if s.shell == 0 {
		return s.sim.ReadFile(p)
	}
	if _, ok := s.sim.Task(s.shell); !ok {
		return "", fmt.Errorf("cat: the shell (task %d) has exited", s.shell)
	}
	if w := s.sim.ShellWaiting(); w != "" {
		return "", fmt.Errorf("cat: the shell (task %d) sleeps in its %s and runs nothing until that returns", s.shell, w)
	}
	if rest, ok := strings.CutPrefix(p, "/proc/self/"); ok {
		p = "/proc/" + strconv.Itoa(s.shell) + "/" + rest
	}
	if s.sim.Produced(p) {
		return s.sim.ReadAs(s.shell, p) // the syscall, the code, the exit
	}
	data, err := s.sim.ReadFile(p)
	// read(2) is a syscall all the same: a shell in user mode passes its
	// kernel exit on the way back (a switch point)
	if t, _ := s.sim.Task(s.shell); !t.InKernel && t.State == sim.Running {
		if s.sim.SyscallEnter(s.shell) == nil {
			_ = s.sim.SyscallExit(s.shell)
		}
	}
	return data, err
}

func isErrno(err error) bool {
	_, ok := err.(sim.Errno)
	return ok
}
