package sim

import (
	"path"
	"strconv"
	"strings"
)

// Dynamic debug (lib/dynamic_debug.c): every pr_debug the simulator
// prints is a call site with a file, function, line, module and format,
// printed only while its 'p' flag is set. The control file
// (/proc/dynamic_debug/control, /sys/kernel/debug/dynamic_debug/control)
// takes the kernel's queries and reads back in its format.

// ddSite is one pr_debug call site. Line numbers are those of the current
// kernel/livepatch/transition.c (seed 000) in every profile.
type ddSite struct {
	file, fn string
	line     int
	format   string
}

// Call sites, in the order the kernel's table lists them (by line).
const (
	ddComplete = iota
	ddCancel
	ddRunning
	ddUnreliable
	ddSleeping
	ddInit
	ddReverse
	ddOldSwitch // v4.12-v5.15: klp_try_switch_task's pr_debug("%s", err_buf)
	ddSites
)

const klpTransitionC = "kernel/livepatch/transition.c"

var ddTable = [ddSites]ddSite{
	ddComplete:   {klpTransitionC, "klp_complete_transition", 97, "'%s': completing %s transition\n"},
	ddCancel:     {klpTransitionC, "klp_cancel_transition", 170, "'%s': canceling patching transition, going to unpatch\n"},
	ddRunning:    {klpTransitionC, "klp_try_switch_task", 345, "%s: %s:%d is running\n"},
	ddUnreliable: {klpTransitionC, "klp_try_switch_task", 349, "%s: %s:%d has an unreliable stack\n"},
	ddSleeping:   {klpTransitionC, "klp_try_switch_task", 353, "%s: %s:%d is sleeping on function %s\n"},
	ddInit:       {klpTransitionC, "klp_init_transition", 591, "'%s': initializing %s transition\n"},
	ddReverse:    {klpTransitionC, "klp_reverse_transition", 653, "'%s': reversing transition from %s\n"},
	ddOldSwitch:  {klpTransitionC, "klp_try_switch_task", 345, "%s"},
}

// dynamic debug flags, in the order ddebug_describe_flags prints them.
const (
	ddPrint uint8 = 1 << iota
	ddModname
	ddFuncname
	ddSourcename
	ddLineno
	ddTID
)

var ddFlagChars = [...]struct {
	bit uint8
	c   byte
}{{ddPrint, 'p'}, {ddModname, 'm'}, {ddFuncname, 'f'}, {ddSourcename, 's'}, {ddLineno, 'l'}, {ddTID, 't'}}

// ddModule is the KBUILD_MODNAME of kernel/livepatch/*.o.
const ddModule = "livepatch"

// ddState holds each site's flags, stored inverted against the
// playground's default (every livepatch pr_debug printed) so that the
// zero value is that default.
type ddState struct {
	flipped [ddSites]uint8
}

func (d *ddState) flags(i int) uint8 { return d.flipped[i] ^ ddPrint }

// sites lists the call sites that exist in this profile.
func (s *Sim) ddSites() []int {
	if s.prof.TaskCallFunc() {
		return []int{ddComplete, ddCancel, ddRunning, ddUnreliable, ddSleeping, ddInit, ddReverse}
	}
	return []int{ddComplete, ddCancel, ddOldSwitch, ddInit, ddReverse}
}

// prDebug prints a pr_debug line of call site i if the site is enabled,
// with the prefix its flags ask for. text has no "livepatch: " prefix.
// debugOn reports whether pr_debug site i prints: the callers whose text
// costs a concatenation test it first.
func (s *Sim) debugOn(i int) bool { return !s.quiet && s.dd.flags(i)&ddPrint != 0 }

func (s *Sim) prDebug(i int, text string) {
	f := s.dd.flags(i)
	if f&ddPrint == 0 || s.quiet {
		return // not printed, or dropped anyway (SetQuiet)
	}
	if f == ddPrint {
		s.printText(LevelDebug, "livepatch: "+text)
		return
	}
	var b strings.Builder
	if f&ddTID != 0 {
		b.WriteString("[" + strconv.Itoa(s.currentPID()) + "] ")
	}
	n := b.Len()
	site := ddTable[i]
	if f&ddModname != 0 {
		b.WriteString(ddModule + ":")
	}
	if f&ddFuncname != 0 {
		b.WriteString(site.fn + ":")
	}
	if f&ddSourcename != 0 {
		b.WriteString(site.file + ":")
	}
	if f&ddLineno != 0 {
		b.WriteString(strconv.Itoa(site.line) + ":")
	}
	if b.Len() > n {
		b.WriteByte(' ')
	}
	s.printText(LevelDebug, b.String()+"livepatch: "+text)
}

// currentPID is the pid a pr_debug's 't' flag shows. The simulator does
// not track which task runs the transition's code (the writing shell, a
// kworker), so it shows 0.
func (s *Sim) currentPID() int { return 0 }

// ddControl reads the control file.
func (s *Sim) ddControl() string {
	var b strings.Builder
	b.WriteString("# filename:lineno [module]function flags format\n")
	for _, i := range s.ddSites() {
		site := ddTable[i]
		b.WriteString(site.file + ":" + strconv.Itoa(site.line) + " [" + ddModule + "]" + site.fn + " =" + ddDescribe(s.dd.flags(i)) + " \"")
		b.WriteString(ddEscape(site.format))
		b.WriteString("\"\n")
	}
	return b.String()
}

func ddDescribe(f uint8) string {
	var b []byte
	for _, x := range ddFlagChars {
		if f&x.bit != 0 {
			b = append(b, x.c)
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// ddEscape is seq_escape_str(…, ESCAPE_SPACE, "\t\r\n\""): the format's
// whitespace as C escapes, quotes backslashed.
func ddEscape(s string) string {
	r := strings.NewReplacer("\n", `\n`, "\t", `\t`, "\r", `\r`, "\v", `\v`, "\f", `\f`, `"`, `\"`)
	return r.Replace(s)
}

// DynDebugError is a rejected control-file query: the kernel's pr_err
// text and the errno of the write.
type DynDebugError struct {
	Msg string
	Err Errno
}

func (e *DynDebugError) Error() string { return e.Msg }

// ddWrite runs the queries of one write to the control file
// (ddebug_exec_queries): one per line or ';', '#' comments skipped. A
// failed query is logged and makes the write fail with EINVAL; the others
// still apply.
func (s *Sim) ddWrite(data string) error {
	failed := false
	for _, q := range strings.FieldsFunc(data, func(r rune) bool { return r == '\n' || r == ';' }) {
		q = strings.TrimSpace(q)
		if q == "" || strings.HasPrefix(q, "#") {
			continue
		}
		if err := s.ddExec(q); err != nil {
			for _, l := range strings.Split(err.Msg, "\n") {
				s.printText(LevelErr, "dynamic_debug:"+l)
			}
			failed = true
		}
	}
	if failed {
		return EINVAL
	}
	return nil
}

type ddQuery struct {
	file, fn, module, format string
	first, last              int
}

// ddExec is ddebug_exec_query: words, then match-spec pairs, then flags.
func (s *Sim) ddExec(q string) *DynDebugError {
	words, ok := ddTokenize(q)
	if !ok || len(words) == 0 {
		return &DynDebugError{"ddebug_exec_query: tokenize failed", EINVAL}
	}
	var query ddQuery
	flagsWord := words[len(words)-1]
	words = words[:len(words)-1]
	op, flags, perr := ddParseFlags(flagsWord)
	if perr != nil {
		perr.Msg += "\nddebug_exec_query: flags parse failed"
		return perr
	}
	if perr := ddParseQuery(words, &query); perr != nil {
		perr.Msg += "\nddebug_exec_query: query parse failed"
		return perr
	}
	for _, i := range s.ddSites() {
		if !query.matches(ddTable[i]) {
			continue
		}
		f := s.dd.flags(i)
		switch op {
		case '+':
			f |= flags
		case '-':
			f &^= flags
		case '=':
			f = flags
		}
		s.dd.flipped[i] = f ^ ddPrint
	}
	return nil
}

// ddParseQuery is ddebug_parse_query: match-spec pairs.
func ddParseQuery(words []string, q *ddQuery) *DynDebugError {
	if len(words)%2 != 0 {
		return &DynDebugError{"ddebug_parse_query: expecting pairs of match-spec <value>", EINVAL}
	}
	for i := 0; i < len(words); i += 2 {
		k, v := words[i], words[i+1]
		switch k {
		case "func":
			q.fn = v
		case "file":
			// "file path:line" names a line too.
			if f, l, ok := strings.Cut(v, ":"); ok {
				v = f
				if err := ddParseLines(l, q); err != nil {
					return err
				}
			}
			q.file = v
		case "module":
			q.module = v
		case "format":
			q.format = v
		case "line":
			if err := ddParseLines(v, q); err != nil {
				return err
			}
		default:
			return &DynDebugError{"ddebug_parse_query: unknown keyword \"" + k + "\"", EINVAL}
		}
	}
	return nil
}

func (q ddQuery) matches(site ddSite) bool {
	if q.module != "" && !globMatch(q.module, ddModule) {
		return false
	}
	if q.file != "" && !globMatch(q.file, site.file) && !globMatch(q.file, path.Base(site.file)) {
		return false
	}
	if q.fn != "" && !globMatch(q.fn, site.fn) {
		return false
	}
	if q.format != "" && !strings.Contains(site.format, q.format) {
		return false
	}
	if q.first != 0 && (site.line < q.first || site.line > q.last) {
		return false
	}
	return true
}

// ddParseLines is parse_linerange: N, N-M, N- or -M.
func ddParseLines(v string, q *ddQuery) *DynDebugError {
	a, b, isRange := strings.Cut(v, "-")
	num := func(s string, dflt int) (int, bool) {
		if s == "" {
			return dflt, true
		}
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= 0
	}
	first, ok1 := num(a, 0)
	last, ok2 := first, true
	if isRange {
		last, ok2 = num(b, int(^uint(0)>>1))
	}
	if !ok1 || !ok2 {
		return &DynDebugError{"parse_lineno: bad line-number: " + v, EINVAL}
	}
	if last < first {
		return &DynDebugError{"parse_linerange: last-line:" + strconv.Itoa(last) + " < 1st-line:" + strconv.Itoa(first), EINVAL}
	}
	if first == 0 {
		first = 1
	}
	q.first, q.last = first, last
	return nil
}

// ddParseFlags is ddebug_parse_flags: one of + - =, then flag letters
// ('_' for none).
func ddParseFlags(w string) (byte, uint8, *DynDebugError) {
	if w == "" {
		return 0, 0, &DynDebugError{"ddebug_exec_query: flags parse failed", EINVAL}
	}
	op := w[0]
	if op != '+' && op != '-' && op != '=' {
		return 0, 0, &DynDebugError{"ddebug_parse_flags: bad flag-op " + string(op) + ", at start of " + w, EINVAL}
	}
	var f uint8
outer:
	for i := 1; i < len(w); i++ {
		if w[i] == '_' {
			continue
		}
		for _, x := range ddFlagChars {
			if x.c == w[i] {
				f |= x.bit
				continue outer
			}
		}
		return 0, 0, &DynDebugError{"ddebug_parse_flags: unknown flag '" + string(w[i]) + "'", EINVAL}
	}
	return op, f, nil
}

// ddTokenize splits a query into words; a word may be quoted with ' or ".
func ddTokenize(q string) ([]string, bool) {
	var words []string
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(q[i+1:], c)
			if j < 0 {
				return nil, false
			}
			words = append(words, q[i+1:i+1+j])
			i += j + 2
		default:
			j := i
			for j < len(q) && q[j] != ' ' && q[j] != '\t' {
				j++
			}
			words = append(words, q[i:j])
			i = j
		}
	}
	return words, true
}

// globMatch is match_wildcard: '*' any run (slashes too), '?' one
// character.
func globMatch(pat, s string) bool { return wildcard(pat, s) }

func wildcard(pat, s string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcard(pat[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pat[0] {
				return false
			}
		}
		pat, s = pat[1:], s[1:]
	}
	return s == ""
}

// DynDebugOff is what a real box starts with: every livepatch pr_debug
// disabled (echo 'module livepatch -p' > …/control does the same).
func (s *Sim) DynDebugOff() {
	for i := range s.dd.flipped {
		s.dd.flipped[i] = ddPrint
	}
}

// ddNode serves the control file at both of its paths.
func (s *Sim) ddNode() *node {
	return &node{mode: "-rw-r--r--", read: s.ddControl, write: s.ddWrite}
}
