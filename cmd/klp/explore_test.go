package main

import (
	"bytes"
	"encoding/json"
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

// TestExploreJSON: -json prints one JSON object with the text report's
// facts — the shortest counterexample's steps and replayable scenario, the
// properties that held, the bounds — and keeps the exit status.
func TestExploreJSON(t *testing.T) {
	force, err := os.ReadFile("../../core/explore/testdata/force.klp")
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"explore", "-json", "-steps", "6", "-"}, strings.NewReader(string(force)), &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a violation); stderr %q", code, errb.String())
	}
	var r jsonResult
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("not one JSON object: %v", err)
	}
	if dec.More() {
		t.Error("more than one JSON value on stdout")
	}
	if r.States == 0 || r.Transitions < r.States-1 || r.Bounds.Steps != 6 || r.Bounds.MemoryMB != 256 || !r.Reduce {
		t.Errorf("stats %+v", r)
	}
	if len(r.Violations) != 1 || r.Violations[0].Property != "consistency" || len(r.Violations[0].Steps) == 0 {
		t.Fatalf("violations %+v", r.Violations)
	}
	v := r.Violations[0]
	if !strings.HasSuffix(strings.TrimSpace(v.Scenario), v.Steps[len(v.Steps)-1]+"\nexpect no-alarm") {
		t.Errorf("the scenario does not end with the steps:\n%s", v.Scenario)
	}
	if strings.Join(r.Held, ",") != "warning,invariant,hazard,expect,liveness" {
		t.Errorf("held %v", r.Held)
	}
	// a clean search: exit 0, empty lists rather than null
	out.Reset()
	code = run([]string{"explore", "-json", "-"}, strings.NewReader("vmlinux f g\ntask 1 a\ntask 2 b\nexplore\n  any-order\n    call 1 f\n    call 2 g\n  end\nend\n"), &out, &errb)
	if code != 0 || !strings.Contains(out.String(), `"violations": []`) || !strings.Contains(out.String(), `"bound": ""`) {
		t.Errorf("clean: exit %d, %s", code, out.String())
	}
}
