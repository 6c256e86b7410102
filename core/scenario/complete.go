package scenario

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

// Completion is what Tab does at a caret: text to insert there, and every
// candidate that fits the word being typed.
type Completion struct {
	Insert  string   // "" when the candidates share nothing more
	Matches []string // sorted, without duplicates
}

// Complete completes the word before the caret (a byte offset into text)
// from the registry: verbs, their arguments and keys, pids, functions,
// modules, CPUs, event kinds, expect forms and the machine's files.
func (s *Session) Complete(text string, caret int) Completion {
	caret = max(0, min(caret, len(text)))
	line := text[:caret]
	line = line[strings.LastIndexByte(line, '\n')+1:]
	cut := strings.LastIndexAny(line, " \t\r\v\f") + 1
	word, prev := line[cut:], strings.Fields(line[:cut])
	cands, prefix := (&completer{s}).candidates(prev, word)
	var matches []string
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 0 {
		return Completion{}
	}
	sort.Strings(matches)
	matches = compactStrings(matches)
	common := matches[0]
	for _, m := range matches[1:] {
		i := 0
		for i < len(common) && i < len(m) && common[i] == m[i] {
			i++
		}
		common = common[:i]
	}
	insert := common[len(prefix):]
	if len(matches) == 1 && !strings.HasSuffix(common, "/") && !strings.HasSuffix(common, "=") {
		insert += " "
	}
	return Completion{Insert: insert, Matches: matches}
}

func compactStrings(l []string) []string {
	out := l[:0]
	for i, x := range l {
		if i == 0 || x != l[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// completer answers the registry's questions about the session.
type completer struct{ s *Session }

// source lists what may stand at a word.
type source func(c *completer, word string) []string

// completion lists what may stand at the word being typed, given the
// arguments before it; nil means the verb has nothing to say there (the
// console then offers functions and pids).
type completion func(c *completer, args []string, word string) []string

// args completes positionally: the i-th argument from first[i], later
// ones from rest; a nil source has nothing to say.
func args(rest source, first ...source) completion {
	return func(c *completer, a []string, word string) []string {
		src := rest
		if len(a) < len(first) {
			src = first[len(a)]
		}
		if src == nil {
			return nil
		}
		if out := src(c, word); out != nil {
			return out
		}
		return []string{}
	}
}

// words offers fixed words.
func words(w ...string) source {
	return func(*completer, string) []string { return w }
}

func cNone(*completer, string) []string { return []string{} }

func cProfiles(*completer, string) []string { return sim.Presets() }

func cEvents(*completer, string) []string { return EventKinds() }

func cPIDs(c *completer, _ string) []string {
	m := c.s.sim
	if m == nil {
		return nil
	}
	var out []string
	for _, p := range m.PIDs() {
		out = append(out, strconv.Itoa(p))
	}
	return out
}

func cFuncs(c *completer, _ string) []string {
	if c.s.sim == nil {
		return nil
	}
	return c.s.sim.FuncNames()
}

func cModules(c *completer, _ string) []string {
	if c.s.sim == nil {
		return nil
	}
	return c.s.sim.ModuleNames()
}

func cCPUs(c *completer, _ string) []string {
	if c.s.sim == nil {
		return nil
	}
	var out []string
	for _, cpu := range c.s.sim.CPUs() {
		out = append(out, strconv.Itoa(cpu.ID))
	}
	return out
}

// cFrames offers functions, also inside stack=a>b>c after the last '>'.
func cFrames(c *completer, word string) []string {
	head := 0
	if strings.HasPrefix(word, "stack=") {
		head = len("stack=")
	}
	head = max(head, strings.LastIndexByte(word, '>')+1)
	var out []string
	for _, f := range cFuncs(c, word) {
		out = append(out, word[:head]+f)
	}
	return out
}

// keyed offers option words and key= names, and after a key's '=' its
// values (key=value); other words come from rest.
func keyed(rest source, values map[string][]string, opts ...string) source {
	return func(c *completer, word string) []string {
		if k, _, ok := strings.Cut(word, "="); ok {
			if vals, ok := values[k]; ok {
				out := make([]string, len(vals))
				for i, v := range vals {
					out[i] = k + "=" + v
				}
				return out
			}
		}
		out := append([]string(nil), opts...)
		if rest != nil {
			out = append(out, rest(c, word)...)
		}
		return out
	}
}

// completeExpect completes expect and goal: the form, then what the form
// takes.
func completeExpect(c *completer, a []string, word string) []string {
	if len(a) == 0 {
		return ExpectForms()
	}
	for _, f := range expectForms {
		if f.Name == a[0] && f.Complete != nil {
			return f.Complete(c, a[1:], word)
		}
	}
	return nil
}

func (c *completer) candidates(prev []string, word string) (cands []string, prefix string) {
	if strings.HasPrefix(word, "/") || strings.HasPrefix(word, ">/") {
		return c.paths(strings.TrimPrefix(word, ">"))
	}
	if len(prev) == 0 {
		return Verbs(), word
	}
	if v, ok := lookupVerb(prev[0]); ok && v.Complete != nil {
		if out := v.Complete(c, prev[1:], word); out != nil {
			return out, word
		}
	}
	return append(cFuncs(c, word), cPIDs(c, word)...), word
}

// paths lists the directory a half-typed path is in.
func (c *completer) paths(w string) ([]string, string) {
	dir := w[:strings.LastIndexByte(w, '/')+1]
	if c.s.sim == nil {
		return nil, w
	}
	ents, err := c.s.sim.ReadDir(path.Clean("/" + dir))
	if err != nil {
		return nil, w
	}
	var out []string
	for _, e := range ents {
		n := dir + e.Name
		if e.Dir {
			n += "/"
		}
		out = append(out, n)
	}
	return out, w
}

// EventKinds lists the event kinds by name (for completion and pickers).
func EventKinds() []string {
	var out []string
	for _, k := range sim.EventKinds() {
		out = append(out, string(k))
	}
	return out
}
