package scenario

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate docs/scenario.md from the verb registry")

const docsFile = "../../docs/scenario.md"

// docsTemplate is docs/scenario.md's prose that belongs to no single verb;
// each {{group}} marker becomes that group's table from the registry.
const docsTemplate = "testdata/scenario.md.tmpl"

// docs renders docs/scenario.md from the registry.
func docs(t *testing.T) string {
	tmpl, err := os.ReadFile(docsTemplate)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]string{}
	names := []string{"config", "declare", "shell", "action"}
	for g, tab := range verbGroups() {
		if g >= len(names) {
			continue
		}
		var b strings.Builder
		for _, v := range tab {
			if !v.NoDoc {
				b.WriteString(row("`"+v.Usage+"`", v.Doc))
			}
		}
		tables[names[g]] = b.String()
	}
	head := func(a, b string) string { return row(a, b) + "| --- | --- |\n" }
	tables["config"] = head("statement", "meaning") + tables["config"]
	tables["shell"] = head("command", "meaning") + tables["shell"]
	tables["action"] = head("command", "meaning") + tables["action"]
	var b strings.Builder
	b.WriteString(head("form", "holds when"))
	for _, f := range expectForms {
		if f.Usage != "" {
			b.WriteString(row("`"+f.Usage+"`", f.Doc))
		}
	}
	tables["expect"] = b.String()
	out := string(tmpl)
	for k, v := range tables {
		out = strings.ReplaceAll(out, "{{"+k+"}}", v)
	}
	return out
}

// row is a table row; a | in a cell (`block PID [S|D]`) is escaped, or
// the table would split the cell there.
func row(a, b string) string {
	esc := strings.NewReplacer("|", `\|`)
	return strings.TrimRight("| "+esc.Replace(a)+" | "+esc.Replace(b), " ") + " |\n"
}

func TestDocsGenerated(t *testing.T) {
	want := docs(t)
	if *update {
		if err := os.WriteFile(docsFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("docs/scenario.md differs from the verb registry; run go test ./core/scenario -update")
	}
}

// Every verb and expect form is documented, so a new one cannot be
// added without its line in docs/scenario.md.
func TestEveryVerbDocumented(t *testing.T) {
	for _, tab := range verbGroups() {
		for _, v := range tab {
			if v.Run == nil {
				t.Errorf("verb %s has no Run", v.Name)
			}
			if v.NoDoc {
				continue
			}
			if v.Usage == "" || v.Doc == "" || !strings.HasPrefix(v.Usage, v.Name) {
				t.Errorf("verb %s: usage %q, doc %q", v.Name, v.Usage, v.Doc)
			}
		}
	}
	for _, f := range expectForms {
		if f.Usage != "" && !strings.Contains(f.Usage, "expect "+f.Name) {
			t.Errorf("expect form %s: usage %q does not show it", f.Name, f.Usage)
		}
	}
}
