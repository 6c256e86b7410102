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
const docsTemplate = "# The scenario language\n\n" +
	"<!-- Generated from core/scenario's verb registry by `go test ./core/scenario -update`; edit the registry, not this file. -->\n\n" +
	`One line-oriented language describes a machine and drives it. The console, the
lessons, share links, tests and the ` + "`klp`" + ` CLI all use it (package
` + "`core/scenario`" + `). ` + "`#`" + ` starts a comment (outside quotes). Blank lines are ignored.
Numbers accept decimal or 0x hex. Statements run top to bottom; declarations may
appear anywhere, commands act on the machine as it is at that point.

## Declarations (the machine)

{{config}}{{declare}}
Livepatch block:

` + "```" + `
livepatch livepatch_sample
  object vmlinux
    func cmdline_proc_show -> livepatch_cmdline_proc_show/0x30 [sympos=1]
    callback pre_patch [ret=ENODEV] "pre_patch_callback: {objstate}" [if-prev=1 "…"] [if-no-prev=1 "…"]
  object some_module
    func some_func -> livepatch_some_func
  state 1 version=1
  param pre_patch_ret 0
  param klp_pids:int[] ""
  pidcount /sys/kernel/test_klp_syscall/npids param.klp_pids
end
` + "```" + `
{{params}}
Callbacks: ` + "`pre_patch`, `post_patch`, `pre_unpatch`, `post_unpatch`" + `. Each quoted
string is a line the callback prints with the patch module's prefix
(` + "`livepatch_sample: …`" + `); ` + "`{obj}`" + ` is the object name, ` + "`{objstate}`" + ` is ` + "`vmlinux`" + ` or
` + "`<module> -> [MODULE_STATE_LIVE] Normal state`" + ` as the selftest modules print it.
` + "`ret=`" + ` is what ` + "`pre_patch`" + ` returns (an errno name or number), or
` + "`ret=param.NAME`" + ` to return the value of a module parameter (0 or -errno), as
the selftests' ` + "`pre_patch_ret`" + ` does.

## Commands a shell would run

{{shell}}
Files: ` + "`/sys/kernel/livepatch/<patch>/{enabled,transition,force,signal,replace,stack_order}`" + `,
` + "`<patch>/<object>/patched`, `<patch>/<object>/<func,sympos>/`" + `,
` + "`/proc/<pid>/{patch_state,stack,comm,status}`, `/proc/<pid>/task/<tid>/…`" + `,
` + "`/sys/devices/system/cpu/cpuN/online`, `/proc/sys/kernel/ftrace_enabled`" + `,
` + "`/sys/module/<m>/refcnt`, `/sys/module/<m>/parameters/<p>`" + `
— each present in the profiles whose kernels have it. And:
{{files}}
## What the box does by itself

{{action}}
## Expectations and goals

` + "`expect …`" + ` fails the run (exit 1 in ` + "`klp check`" + `) when false; ` + "`goal …`" + ` is the same
check used by lessons, reported but never fatal. Forms:

{{expect}}`

// docs renders docs/scenario.md from the registry.
func docs() string {
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
	tables["params"] = paramsDoc
	tables["files"] = filesDoc
	out := docsTemplate
	for k, v := range tables {
		out = strings.ReplaceAll(out, "{{"+k+"}}", v)
	}
	return out
}

func row(a, b string) string {
	return strings.TrimRight("| "+a+" | "+b, " ") + " |\n"
}

func TestDocsGenerated(t *testing.T) {
	want := docs()
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
