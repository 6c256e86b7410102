package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestExploreExitCodes(t *testing.T) {
	force, err := os.ReadFile("../../core/explore/testdata/force.klp")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, src string
		code      int
		out, err  string
	}{
		{"violation", string(force), 1, "VIOLATED consistency: kworker/0:2:60 runs livepatch_frob's frob_commit", ""},
		{"clean", "vmlinux f g\ntask 1 a\ntask 2 b\nexplore\n  any-order\n    call 1 f\n    call 2 g\n  end\nend\n", 0, "held in every state explored: consistency, warning, invariant, hazard, expect, liveness", ""},
		{"no region", "vmlinux f\n", 2, "", "no explore region"},
		{"scenario error", "vmlinux f\nexplore\n  cal 1 f\nend\n", 2, "", `stdin:3:3: unknown command "cal"`},
	} {
		var out, errb bytes.Buffer
		code := run([]string{"explore", "-"}, strings.NewReader(c.src), &out, &errb)
		if code != c.code || !strings.Contains(out.String(), c.out) || !strings.Contains(errb.String(), c.err) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d, %q, %q", c.name, code, out.String(), errb.String(), c.code, c.out, c.err)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"explore", "-no-reduce", "-steps", "2", "-"}, strings.NewReader(string(force)), &out, &errb); code != 0 || !strings.Contains(out.String(), "steps bound hit") || !strings.Contains(out.String(), "reduction off") {
		t.Errorf("flags: %d %q", code, out.String())
	}
	bench, err := os.ReadFile("../../core/explore/testdata/bench.klp")
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"explore", "-memory", "1", "-"}, strings.NewReader(string(bench)), &out, &errb); code != 0 || !strings.Contains(out.String(), "memory=1; memory bound hit: the search is partial") || !strings.Contains(out.String(), "; states held at most ") {
		t.Errorf("-memory 1: %d %q", code, out.String())
	}
	for _, bad := range [][]string{{"-memory", "-1"}, {"-steps", "-2"}, {"-memory", "2000000"}} {
		out.Reset()
		errb.Reset()
		if code := run(append([]string{"explore"}, append(bad, "-")...), strings.NewReader(string(bench)), &out, &errb); code != 2 || !strings.Contains(errb.String(), "take a positive number") {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errb.String())
		}
	}
}
