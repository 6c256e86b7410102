package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// preloadPages gives a built page without links (a lesson) one per module
// its script imports, relative to the page, and leaves a page that lists
// its own (index.html) alone.
func TestPreloadPages(t *testing.T) {
	out := t.TempDir()
	lesson := filepath.Join(out, "lessons", "01.html")
	own := filepath.Join(out, "index.html")
	embed := filepath.Join(out, "docs", "embed-example.html")
	for _, d := range []string{lesson, embed} {
		if err := os.MkdirAll(filepath.Dir(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	page := "<!doctype html><head><script type=\"module\" src=\"../widget.js\"></script></head>"
	ownPage := "<head><link rel=\"modulepreload\" href=\"lib/dom.js\"><script type=\"module\" src=\"widget.js\"></script></head>"
	for p, s := range map[string]string{lesson: page, own: ownPage, embed: page} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := preloadPages(options{root: "../..", out: out, log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(lesson)
	want, err := pagePreloads(webDir, "index.html", "<script type=\"module\" src=\"widget.js\"></script>")
	if err != nil || len(want) < 5 {
		t.Fatalf("widget.js imports %v (%v)", want, err)
	}
	for _, m := range want {
		if !strings.Contains(string(got), `<link rel="modulepreload" href="../`+m+`">`) {
			t.Errorf("the lesson page has no link to ../%s:\n%s", m, got)
		}
	}
	if !strings.HasSuffix(string(got), page[strings.Index(page, "<script"):]) {
		t.Errorf("the links are not before the script:\n%s", got)
	}
	if b, _ := os.ReadFile(own); string(b) != ownPage {
		t.Errorf("a page with its own links was changed:\n%s", b)
	}
	if b, _ := os.ReadFile(embed); string(b) != page {
		t.Errorf("the embed example (markup to copy) was changed:\n%s", b)
	}
}
