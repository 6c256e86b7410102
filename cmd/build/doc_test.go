package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The scenario reference renders every table cell whole: a | inside a
// code span (`block PID [S|D]`) once split its row, leaving a cell that
// starts with a stray backtick.
func TestScenarioDocTables(t *testing.T) {
	out := filepath.Join(t.TempDir(), "scenario.html")
	if err := renderDoc("../../docs/scenario.md", out); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<td>`", "`</td>"} {
		if i := strings.Index(string(html), bad); i >= 0 {
			t.Errorf("a broken table cell (%q) at %q", bad, string(html[max(0, i-80):min(len(html), i+80)]))
		}
	}
	if !strings.Contains(string(html), "<code>block PID [S|D] [freezable]</code>") {
		t.Error("the block verb's usage is not one code span in its cell")
	}
}
