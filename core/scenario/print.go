package scenario

import (
	"strings"
)

// String prints the script in canonical form; Parse(String()) gives the
// same statements back (comments and spacing are not kept).
func (sc *Script) String() string {
	var b strings.Builder
	for _, st := range sc.Stmts {
		b.WriteString(st.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// String prints one statement (with its block, if any).
func (st Stmt) String() string {
	var b strings.Builder
	b.WriteString(st.line())
	if st.Verb == "livepatch" {
		for _, in := range st.Body {
			ind := "    "
			if in.Verb == "object" || in.Verb == "state" || in.Verb == "param" {
				ind = "  "
			}
			b.WriteString("\n" + ind + in.line())
		}
		b.WriteString("\nend")
	}
	if len(st.Text) > 0 || st.isDmesgBlock() {
		for _, t := range st.Text {
			b.WriteString("\n  " + t)
		}
		b.WriteString("\nend")
	}
	return b.String()
}

func (st Stmt) line() string {
	parts := []string{st.Verb}
	for _, a := range st.Args {
		parts = append(parts, a.String())
	}
	return strings.Join(parts, " ")
}

// String prints one argument.
func (a Arg) String() string {
	v := a.Val
	if a.Key != "" && v == "" && !a.Quoted {
		return a.Key + "="
	}
	// A bare \r before the line end would read back as a CRLF line end
	// and vanish, so a word holding one is quoted. # starts a comment
	// only where a word starts; inside one it is a plain character (and
	// a function name may hold it, which a quoted word may not).
	if a.Quoted || v == "" || strings.ContainsAny(v, " \t\"\r") || strings.HasPrefix(v, "#") || (a.Key == "" && lexesAsKey(v)) {
		v = quote(v)
	}
	if a.Key != "" {
		return a.Key + "=" + v
	}
	return v
}

func quote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// lexesAsKey mirrors lex: a bare word is key=value when the part before
// its first = is not empty and holds no / or >.
func lexesAsKey(w string) bool {
	k, _, ok := strings.Cut(w, "=")
	return ok && k != "" && !strings.ContainsAny(k, "/>")
}
