package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

// The shell and expectation pieces of the kernel interfaces beyond
// livepatch's sysfs: sysctl, file modes, kprobe declarations.

// sysctl is procps's sysctl over /proc/sys: `sysctl [-q] [-n|--values]
// KEY[=VALUE]…`. Its messages are procps's.
func (s *Session) sysctl(st Stmt, out []Out) ([]Out, error) {
	quiet, values := false, false
	var keys []Arg
	for _, x := range st.Args {
		switch {
		case x.Key == "" && (x.Val == "-q" || x.Val == "--quiet"):
			quiet = true
		case x.Key == "" && (x.Val == "-n" || x.Val == "--values"):
			values = true
		case x.Key == "" && strings.HasPrefix(x.Val, "-"):
			return nil, s.errf(x.Pos, "sysctl takes -q, -n/--values and KEY or KEY=VALUE, got %q", x.Val)
		default:
			keys = append(keys, x)
		}
	}
	if len(keys) == 0 {
		return nil, s.errf(st.Pos, "sysctl: no variables specified")
	}
	for _, x := range keys {
		key, val, write := x.Val, "", false
		if x.Key != "" {
			key, val, write = x.Key, x.Val, true
		}
		file := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
		if !write {
			data, err := s.sim.ReadFile(file)
			if err != nil {
				s.lastErr = sim.ErrnoOf(err)
				out = append(out, Out{Kind: "stderr", Text: fmt.Sprintf("sysctl: cannot stat %s: %s", file, sim.ErrnoOf(err).Error())})
				continue
			}
			out = append(out, Out{Kind: "stdout", Text: sysctlLine(key, strings.TrimSuffix(data, "\n"), values)})
			continue
		}
		if err := s.sim.WriteFile(file, val+"\n"); err != nil {
			e := sim.ErrnoOf(err)
			s.lastErr = e
			out = s.drain(out)
			if e == sim.ENOENT {
				out = append(out, Out{Kind: "stderr", Text: fmt.Sprintf("sysctl: cannot stat %s: %s", file, e.Error())})
				continue
			}
			out = append(out, Out{Kind: "stderr", Text: fmt.Sprintf("sysctl: setting key \"%s\": %s", key, e.Error())})
			// procps-ng before 3.3.16 went on to print the setting it had
			// failed to make (fixed there; the kernel's selftests adapted
			// in v5.9, "selftests/livepatch: adopt to newer sysctl error
			// format").
			if !s.oldProcps {
				continue
			}
		}
		if !quiet {
			out = append(out, Out{Kind: "stdout", Text: sysctlLine(key, val, values)})
		}
	}
	return out, nil
}

func sysctlLine(key, val string, values bool) string {
	if values {
		return val
	}
	return key + " = " + val
}

func validKprobePost(v string) bool {
	return v == "Y" || v == "N" || (strings.HasPrefix(v, "param.") && len(v) > len("param."))
}

// fileMode checks `expect file PATH mode=OCTAL` against the mode ls -l
// shows.
func fileMode(m *sim.Sim, path, want string) (bool, string) {
	ok, _, mode := m.Stat(path)
	if !ok {
		return false, fmt.Sprintf("%s: %s", path, sim.ENOENT.Error())
	}
	got := octalMode(mode)
	w, err := strconv.ParseUint(want, 8, 12)
	if err != nil {
		return false, fmt.Sprintf("mode=%q is not an octal mode", want)
	}
	if got == uint32(w) {
		return true, fmt.Sprintf("%s has mode %04o (%s)", path, got, mode)
	}
	return false, fmt.Sprintf("%s has mode %04o (%s), want %04o", path, got, mode, w)
}

// octalMode turns ls -l's "-rw-r--r--" into 0644.
func octalMode(s string) uint32 {
	var v uint32
	if len(s) != 10 {
		return 0
	}
	for i, c := range s[1:] {
		if c != '-' {
			v |= 1 << (8 - i)
		}
	}
	return v
}

// userlandWords are what `userland` takes, each setting one tool's
// messages: a module loader (kmod or busybox) and a procps.
var userlandWords = []string{"kmod", "busybox", "procps", "procps-3.3.15"}

func (s *Session) userland(st Stmt, out []Out) ([]Out, error) {
	for _, a := range st.Args {
		switch w := argText(a); w {
		case "kmod", "busybox":
			s.busybox = w == "busybox"
		case "procps", "procps-3.3.15":
			s.oldProcps = w == "procps-3.3.15"
		default:
			return nil, s.errf(a.Pos, "userland takes %s or %s, not %q", strings.Join(userlandWords[:len(userlandWords)-1], ", "), userlandWords[len(userlandWords)-1], w)
		}
	}
	return nil, nil
}

// busyboxInsmod is busybox insmod's complaint: bb_error_msg("can't insert
// '%s': %s", file, moderror(err)); a file it cannot read reaches moderror
// as a negative errno, which is plain strerror.
func busyboxInsmod(file string, e sim.Errno, unreadable bool) string {
	msg := e.Error()
	if !unreadable {
		switch e {
		case sim.ENOEXEC:
			msg = "invalid module format"
		case sim.ENOENT:
			msg = "unknown symbol in module, or unknown parameter"
		case sim.ESRCH:
			msg = "module has wrong symbol version"
		}
	}
	return fmt.Sprintf("insmod: can't insert '%s': %s", file, msg)
}

// busyboxRmmod is busybox rmmod: delete_module(name, O_NONBLOCK|O_EXCL)
// without reading the reference count first, then bb_perror_msg_and_die.
// A live module still referenced fails with EWOULDBLOCK (EAGAIN); one
// still coming or going with EBUSY.
func (s *Session) busyboxRmmod(out []Out, name string) []Out {
	m := s.sim
	state := m.ModuleState(name)
	err := m.Rmmod(name)
	if err == nil {
		return out
	}
	e := sim.ErrnoOf(err)
	if e == sim.EBUSY && state == sim.ModLive {
		e = sim.EAGAIN
	}
	return s.fail(out, e, fmt.Sprintf("rmmod: can't unload module '%s': %s", name, e.Error()))
}
