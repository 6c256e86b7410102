package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name, cmd, src string
		code           int
		out            string
	}{
		{"ok", "check", "vmlinux f\nexpect transition none\n", 0, "all 1 expectations hold"},
		{"failing expectation", "check", "vmlinux f\nexpect transition p\n", 1, "stdin:2:1: FAIL: no transition in progress, want p"},
		{"scenario error", "check", "vmlinux f\ncal 1 f\n", 2, ""},
		{"run prints commands and dmesg", "run", "vmlinux f\nlivepatch p\n object vmlinux\n  func f -> g\nend\ninsmod p.ko\n", 0, "[    0.000000] livepatch: enabling patch 'p'"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run([]string{c.cmd, "-"}, strings.NewReader(c.src), &out, &errb)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (stderr %s)", c.name, code, c.code, errb.String())
		}
		if !strings.Contains(out.String(), c.out) {
			t.Errorf("%s: output %q lacks %q", c.name, out.String(), c.out)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"check", "-"}, strings.NewReader("vmlinux f\ncal 1 f\n"), &out, &errb); code != 2 || !strings.Contains(errb.String(), `stdin:2:1: unknown command "cal" (did you mean "call"?)`) {
		t.Errorf("scenario error report: %d %q", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"run", "-dmesg", "-"}, strings.NewReader("vmlinux f\nlivepatch p\n object vmlinux\n  func f -> g\nend\ninsmod p.ko\ncat /sys/kernel/livepatch/p/enabled\n"), &out, &errb); code != 0 || strings.Contains(out.String(), "# insmod") || !strings.Contains(out.String(), "enabling patch") {
		t.Errorf("-dmesg: %q", out.String())
	}
}

// -dmesg prints what dmesg shows at the end: a dmesg -C clears, /dev/kmsg
// writes appear.
func TestRunDmesgHonoursClear(t *testing.T) {
	var out, errb strings.Builder
	src := "vmlinux f\nlivepatch p\n object vmlinux\n  func f -> g\nend\ninsmod p.ko\ndmesg -C\necho \"<3>after the clear\" > /dev/kmsg\n"
	if code := run([]string{"run", "-dmesg", "-"}, strings.NewReader(src), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// (at 205 µs: the write comes after insmod's text-poke syncs)
	if got := out.String(); got != "[    0.000205] after the clear\n" {
		t.Errorf("-dmesg after dmesg -C: %q", got)
	}
}

// Scenario bytes reach the terminal escaped: an escape sequence, a
// carriage return or a C1 control in a file cannot act on the terminal.
func TestRunEscapesControlCharacters(t *testing.T) {
	cases := []struct{ src, want, not string }{
		{"vmlinux f\necho \x1b]0;pwned\x07 > /dev/null\n", `\x1b]0;pwned\a`, "\x1b"},
		{"vmlinux f\ncat /x\rhidden\n", `\rhidden`, "\r"},
		{"vmlinux f\necho a\u0085b\n", `a\u0085b`, "\u0085"},
		{"vmlinux f\necho \xff\n", `\xff`, "\xff"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		run([]string{"run", "-"}, strings.NewReader(c.src), &out, &errb)
		all := out.String() + errb.String()
		if strings.Contains(all, c.not) {
			t.Errorf("%q: output carries %q raw: %q", c.src, c.not, all)
		}
		if !strings.Contains(all, c.want) {
			t.Errorf("%q: output %q lacks the escaped %q", c.src, all, c.want)
		}
	}
	if got := termSafe("line 1\n\tline 2 \u00e9"); got != "line 1\n\tline 2 \u00e9" {
		t.Errorf("termSafe changed clean text: %q", got)
	}
}
