// Package scenario is the one text language of the klp playground: it
// declares a simulated machine (kernel profile, CPUs, functions, modules,
// livepatches, tasks) and drives it with what a kernel engineer types on a
// real box (insmod, echo > /sys/kernel/livepatch/..., cat, dmesg) plus what
// the box does by itself (task calls and sleeps, time). The console, the
// lessons, share links, tests and the klp CLI all use it. docs/scenario.md
// is the reference.
package scenario

import (
	"fmt"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

// Pos is a position in a scenario file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	f := p.File
	if f == "" {
		f = "scenario"
	}
	return fmt.Sprintf("%s:%d:%d", f, p.Line, p.Col)
}

// Error is a scenario error at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Arg is one word of a statement: a bare word, a quoted string, or
// key=value.
type Arg struct {
	Pos    Pos
	Key    string // for key=value
	Val    string
	Quoted bool
}

// Stmt is one statement; blocks (livepatch, expect dmesg) carry a body.
type Stmt struct {
	Pos  Pos
	Verb string
	Args []Arg
	Body []Stmt   // livepatch: object/func/callback/state lines
	Text []string // expect dmesg: the expected lines
}

// Script is a parsed scenario.
type Script struct {
	File  string
	Stmts []Stmt
}

// nearest suggests the closest known name for a typo.
func nearest(name string, cands []string) string { return sim.Nearest(name, cands) }

// maxLines and maxLineLen bound what the parser accepts, so that a hostile
// share link cannot make it work for long.
const (
	maxLines   = 20000
	maxLineLen = 4096
)

// Parse parses a whole scenario. It returns every syntax error it finds
// (as *ErrorList) and no script when there is any.
func Parse(file, src string) (*Script, error) {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	if len(lines) > maxLines {
		return nil, &Error{Pos{file, maxLines + 1, 1}, fmt.Sprintf("scenario too long (more than %d lines)", maxLines)}
	}
	p := &parser{file: file, lines: lines}
	sc := &Script{File: file}
	for p.i < len(p.lines) {
		st, ok := p.stmt(0)
		if ok {
			sc.Stmts = append(sc.Stmts, st)
		}
		if len(p.errs) >= 20 {
			break
		}
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return sc, nil
}

// ParseLine parses one console line (or a block given as several lines).
func ParseLine(src string) ([]Stmt, error) {
	sc, err := Parse("console", src)
	if err != nil {
		return nil, err
	}
	return sc.Stmts, nil
}

// ErrorList is several scenario errors.
type ErrorList []*Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

type parser struct {
	file  string
	lines []string
	i     int
	errs  ErrorList
}

func (p *parser) errf(pos Pos, format string, args ...any) {
	p.errs = append(p.errs, &Error{pos, fmt.Sprintf(format, args...)})
}

// stmt parses the statement starting at the current line; depth > 0 inside
// a livepatch block.
func (p *parser) stmt(depth int) (Stmt, bool) {
	ln := p.i + 1
	raw := p.lines[p.i]
	p.i++
	if len(raw) > maxLineLen {
		p.errf(Pos{p.file, ln, 1}, "line longer than %d characters", maxLineLen)
		return Stmt{}, false
	}
	args, err := lex(raw, Pos{p.file, ln, 1})
	if err != nil {
		p.errs = append(p.errs, err)
		return Stmt{}, false
	}
	if len(args) == 0 {
		return Stmt{}, false
	}
	if args[0].Quoted || args[0].Key != "" {
		p.errf(args[0].Pos, "a statement starts with a command word, not %q", args[0].Val)
		return Stmt{}, false
	}
	st := Stmt{Pos: args[0].Pos, Verb: args[0].Val, Args: args[1:]}
	if depth > 0 {
		return st, true
	}
	v, ok := lookupVerb(st.Verb)
	if !ok {
		msg := fmt.Sprintf("unknown command %q", st.Verb)
		if s := nearest(st.Verb, Verbs()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		p.errf(st.Pos, "%s", msg)
		return Stmt{}, false
	}
	if len(st.Args) < v.Min {
		p.errf(st.Pos, "%s needs at least %d argument(s); see docs/scenario.md", st.Verb, v.Min)
		return Stmt{}, false
	}
	switch {
	case st.Verb == "livepatch":
		return p.livepatchBlock(st)
	case st.Verb == "explore":
		return p.exploreBlock(st)
	case st.isDmesgBlock():
		for p.i < len(p.lines) {
			raw := p.lines[p.i]
			p.i++
			t := strings.TrimSpace(raw)
			if t == "end" {
				return st, true
			}
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			st.Text = append(st.Text, t)
		}
		p.errf(st.Pos, "%s dmesg block is not closed with 'end'", st.Verb)
		return Stmt{}, false
	}
	return st, true
}

// isDmesgBlock tells an "expect dmesg" or "goal dmesg" block, whose lines
// follow up to "end".
func (st Stmt) isDmesgBlock() bool {
	return (st.Verb == "expect" || st.Verb == "goal") && len(st.Args) == 1 && st.Args[0].Val == "dmesg" && !st.Args[0].Quoted
}

var livepatchLines = []string{"object", "func", "callback", "state", "param", "pidcount", "reloc", "end"}

func (p *parser) livepatchBlock(st Stmt) (Stmt, bool) {
	ok := true
	for p.i < len(p.lines) {
		inner, got := p.stmt(1)
		if !got {
			continue
		}
		switch inner.Verb {
		case "end":
			if len(inner.Args) > 0 {
				p.errf(inner.Args[0].Pos, "nothing may follow 'end'")
				ok = false
			}
			return st, ok
		case "object", "func", "callback", "state", "param", "pidcount", "reloc":
			st.Body = append(st.Body, inner)
		default:
			msg := fmt.Sprintf("unknown livepatch line %q (want object, func, callback, state, param, pidcount, reloc or end)", inner.Verb)
			if s := nearest(inner.Verb, livepatchLines); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			p.errf(inner.Pos, "%s", msg)
			ok = false
		}
	}
	p.errf(st.Pos, "livepatch %s is not closed with 'end'", argVal(st.Args, 0))
	return Stmt{}, false
}

func argVal(a []Arg, i int) string {
	if i < len(a) {
		return a[i].Val
	}
	return ""
}

// lex splits a line into words: bare words, "quoted strings" (with \" and
// \\ escapes) and key=value (value may be quoted). # starts a comment.
func lex(s string, pos Pos) ([]Arg, *Error) {
	var out []Arg
	i := 0
	for i < len(s) {
		c := s[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c == '#' {
			break
		}
		start := i
		at := Pos{pos.File, pos.Line, i + 1}
		if c == '"' {
			v, n, err := quoted(s[i:], at)
			if err != nil {
				return nil, err
			}
			out = append(out, Arg{Pos: at, Val: v, Quoted: true})
			i += n
			continue
		}
		for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '"' {
			if s[i] == '=' && i+1 < len(s) && s[i+1] == '"' {
				key := s[start:i]
				v, n, err := quoted(s[i+1:], Pos{pos.File, pos.Line, i + 2})
				if err != nil {
					return nil, err
				}
				out = append(out, Arg{Pos: at, Key: key, Val: v, Quoted: true})
				i += 1 + n
				start = -1
				break
			}
			i++
		}
		if start < 0 {
			continue
		}
		w := s[start:i]
		if k, v, _ := strings.Cut(w, "="); lexesAsKey(w) {
			out = append(out, Arg{Pos: at, Key: k, Val: v})
		} else {
			out = append(out, Arg{Pos: at, Val: w})
		}
	}
	return out, nil
}

func quoted(s string, pos Pos) (string, int, *Error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteByte('\\')
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, &Error{pos, "unterminated quoted string"}
}
