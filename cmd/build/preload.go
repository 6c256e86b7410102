package main

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
)

var (
	moduleScript = regexp.MustCompile(`<script type="module" src="([^"]+)"`)
	modPreload   = regexp.MustCompile(`<link rel="modulepreload" href="([^"]+)"`)
	// static imports and re-exports (not import(): it loads on demand)
	staticImport = regexp.MustCompile(`(?m)^\s*(?:import|export)\s+(?:[\w*{}\s,]+?\s+from\s+)?["'](\.\.?/[^"']+)["']`)
)

// importGraph adds to seen every module the module at rel (a path under
// web) imports statically, directly or not, and rel itself.
func importGraph(web, rel string, seen map[string]bool) error {
	if seen[rel] {
		return nil
	}
	seen[rel] = true
	src, err := os.ReadFile(filepath.Join(web, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	for _, m := range staticImport.FindAllStringSubmatch(string(src), -1) {
		if err := importGraph(web, path.Join(path.Dir(rel), m[1]), seen); err != nil {
			return err
		}
	}
	return nil
}

// pagePreloads returns the modules (web-relative paths, sorted) that the
// module scripts of page (at pageRel under the site) import statically.
func pagePreloads(web, pageRel, page string) ([]string, error) {
	graph := map[string]bool{}
	var scripts []string
	for _, s := range moduleScript.FindAllStringSubmatch(page, -1) {
		rel := path.Join(path.Dir(pageRel), s[1])
		scripts = append(scripts, rel)
		if err := importGraph(web, rel, graph); err != nil {
			return nil, err
		}
	}
	for _, s := range scripts {
		delete(graph, s) // fetched by its own tag
	}
	var out []string
	for m := range graph {
		out = append(out, m)
	}
	slices.Sort(out)
	return out, nil
}

// noPreload lists pages whose markup is meant to be copied to other sites:
// the embed example shows the one script tag an embedder needs (widget.js,
// not a bundle), and site-relative links would 404 in a copy.
var noPreload = map[string]bool{"docs/embed-example.html": true}
