package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A page's modulepreload links must name every module its scripts import
// statically: one the browser has to discover by parsing its importer
// waits a round trip per level, and the first paint waits with it
// (lib/notice.js, three levels down, once held it back ~100 ms). A link
// to a module nothing imports would download for nothing.
func TestModulePreloadsCoverImports(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(webDir, "*.html"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages in %s (%v)", webDir, err)
	}
	for _, p := range pages {
		html, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		scripts := moduleScript.FindAllStringSubmatch(string(html), -1)
		if len(scripts) == 0 {
			continue
		}
		mods, err := pagePreloads(webDir, filepath.Base(p), string(html))
		if err != nil {
			t.Fatal(err)
		}
		graph := map[string]bool{}
		for _, m := range mods {
			graph[m] = true
		}
		var preloaded []string
		for _, m := range modPreload.FindAllStringSubmatch(string(html), -1) {
			preloaded = append(preloaded, m[1])
			if !graph[m[1]] {
				t.Errorf("%s: modulepreload %s is not imported by the page's scripts", filepath.Base(p), m[1])
			}
		}
		for m := range graph {
			if !slices.Contains(preloaded, m) {
				t.Errorf("%s: %s is imported but has no <link rel=\"modulepreload\">", filepath.Base(p), m)
			}
		}
	}
}
