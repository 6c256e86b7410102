package main

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

var (
	moduleScript = regexp.MustCompile(`<script type="module" src="([^"]+)"`)
	modPreload   = regexp.MustCompile(`<link rel="modulepreload" href="([^"]+)"`)
	// static imports and re-exports (not import(): it loads on demand)
	staticImport = regexp.MustCompile(`(?m)^\s*(?:import|export)\s+(?:[\w*{}\s,]+?\s+from\s+)?["'](\.\.?/[^"']+)["']`)
)

// moduleGraph returns every module the module at rel (a path under web/)
// imports statically, directly or not, including rel.
func moduleGraph(t *testing.T, rel string, seen map[string]bool) {
	if seen[rel] {
		return
	}
	seen[rel] = true
	src, err := os.ReadFile(filepath.Join(webDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range staticImport.FindAllStringSubmatch(string(src), -1) {
		moduleGraph(t, path.Join(path.Dir(rel), m[1]), seen)
	}
}

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
		graph := map[string]bool{}
		for _, s := range scripts {
			moduleGraph(t, s[1], graph)
			delete(graph, s[1]) // the script itself is fetched by its tag
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
