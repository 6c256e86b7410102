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
	if got := out.String(); got != "[    0.000000] after the clear\n" {
		t.Errorf("-dmesg after dmesg -C: %q", got)
	}
}
