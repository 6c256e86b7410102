package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
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
// the embed example shows the one script tag an embedder needs, and
// site-relative links would 404 in a copy.
var noPreload = map[string]bool{"docs/embed-example.html": true}

// preloadPages gives every built page with module scripts and no
// modulepreload links (the lesson pages, the docs) one link per module
// its scripts import: a module found only by parsing its importer costs a
// round trip per level before the first paint. web/index.html lists its
// own (checked by TestModulePreloadsCoverImports).
func preloadPages(o options) error {
	web := filepath.Join(o.root, "web")
	n := 0
	err := filepath.WalkDir(o.out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		page := string(src)
		loc := moduleScript.FindStringIndex(page)
		if loc == nil || modPreload.MatchString(page) {
			return nil
		}
		rel, err := filepath.Rel(o.out, p)
		if err != nil {
			return err
		}
		if noPreload[filepath.ToSlash(rel)] {
			return nil
		}
		mods, err := pagePreloads(web, filepath.ToSlash(rel), page)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		var b strings.Builder
		for _, m := range mods {
			href, err := filepath.Rel(filepath.Dir(rel), filepath.FromSlash(m))
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "<link rel=\"modulepreload\" href=\"%s\">\n", filepath.ToSlash(href))
		}
		n++
		return os.WriteFile(p, []byte(page[:loc[0]]+b.String()+page[loc[0]:]), 0o644)
	})
	if err == nil {
		fmt.Fprintf(o.log, "modulepreload: links added to %d pages\n", n)
	}
	return err
}
