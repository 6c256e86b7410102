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
				s.lastErr = asErrno(err)
				out = append(out, Out{Kind: "stderr", Text: fmt.Sprintf("sysctl: cannot stat %s: %s", file, asErrno(err).Error())})
				continue
			}
			out = append(out, Out{Kind: "stdout", Text: sysctlLine(key, strings.TrimSuffix(data, "\n"), values)})
			continue
		}
		if err := s.sim.WriteFile(file, val+"\n"); err != nil {
			e := asErrno(err)
			s.lastErr = e
			out = s.drain(out)
			if e == sim.ENOENT {
				out = append(out, Out{Kind: "stderr", Text: fmt.Sprintf("sysctl: cannot stat %s: %s", file, e.Error())})
			} else {
				out = append(out, Out{Kind: "stderr", Text: fmt.Sprintf("sysctl: setting key \"%s\": %s", key, e.Error())})
			}
			continue
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
