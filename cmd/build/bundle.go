package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/tdewolff/minify/v2"
)

// The site's pages load one script each: a bundle of the module graph of
// the page's entry (app.js, widget.js). On a cold load the 20 modules were
// 20 requests over HTTP/1.1's six connections, and on the 2-core benchmark
// machine the last of them arrived ~250 ms after the first was asked for;
// the bundle arrives in one (BenchmarkPageLoad, README). web/ stays plain
// ES modules, served as they are in development, and widget.js stays the
// one file an embedding page loads (docs/embed-example.html).
//
// The bundler knows exactly the module forms web/ uses, and refuses any
// other, naming the file and line: `import { a, b as c } from "./x.js";`
// (over several lines too), `import "./x.js";`, and `export` before a
// function, async function, class or const declaration, each at the start
// of a line. Every module becomes a function scope run once, in the order
// ES modules evaluate (dependencies first, depth first, in import order);
// its imports are read from the objects its dependencies returned. Only
// declarations that are never reassigned are exported, so the returned
// object holds the same bindings a live import would.

var (
	bundleImport = regexp.MustCompile(`(?m)^import\s*(?:\{([^}]*)\}\s*from\s*)?"(\.\.?/[^"]+)";?[ \t]*$`)
	bundleExport = regexp.MustCompile(`(?m)^export\s+(?:async\s+function\*?|function\*?|class|const)\s+([A-Za-z_$][\w$]*)`)
	lineStart    = regexp.MustCompile(`(?m)^(import|export)\b`)
	bundleAlias  = regexp.MustCompile(`^([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?$`)
)

type bundleModule struct {
	rel     string   // web-relative path
	id      int      // its place in evaluation order: __m<id>
	body    string   // source with imports removed and export keywords dropped
	imports []string // web-relative paths, in source order
	binds   []bundleBind
	exports []string
}

// bundleBind is one `import { name as local, … } from "dep"`.
type bundleBind struct {
	dep   string
	names [][2]string // {name, local}
}

// bundleEntry returns one script running the module graph of entry (a
// web-relative path) as the browser would, for a bundle that will live in
// directory dir (web-relative): a module elsewhere that reads
// import.meta.url would resolve its paths against the wrong URL.
func bundleEntry(web, entry, dir string) (string, error) {
	mods := map[string]*bundleModule{}
	var order []*bundleModule
	visiting := map[string]bool{}
	var visit func(rel, from string) error
	visit = func(rel, from string) error {
		if _, done := mods[rel]; done {
			return nil
		}
		if visiting[rel] {
			return fmt.Errorf("%s: import cycle through %s (the bundler runs each module once, dependencies first)", from, rel)
		}
		visiting[rel] = true
		src, err := os.ReadFile(filepath.Join(web, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		m, err := parseModule(rel, string(src))
		if err != nil {
			return err
		}
		if strings.Contains(m.body, "import.meta") && path.Dir(rel) != dir {
			return fmt.Errorf("%s reads import.meta, but the bundle lives in %s/: its URL would not be the module's", rel, dir)
		}
		for _, dep := range m.imports {
			if err := visit(dep, rel); err != nil {
				return err
			}
		}
		m.id = len(order)
		mods[rel] = m
		order = append(order, m)
		return nil
	}
	if err := visit(entry, entry); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// %s and the modules it imports, bundled by cmd/build (bundle.go)\n", entry)
	for _, m := range order {
		fmt.Fprintf(&b, "const __m%d = (() => { // %s\n", m.id, m.rel)
		for _, bind := range m.binds {
			d := mods[bind.dep]
			var list []string
			for _, n := range bind.names {
				if !slices.Contains(d.exports, n[0]) {
					return "", fmt.Errorf("%s imports %s from %s, which does not export it", m.rel, n[0], bind.dep)
				}
				if n[0] == n[1] {
					list = append(list, n[0])
				} else {
					list = append(list, n[0]+": "+n[1])
				}
			}
			fmt.Fprintf(&b, "const { %s } = __m%d;\n", strings.Join(list, ", "), d.id)
		}
		b.WriteString(m.body)
		if !strings.HasSuffix(m.body, "\n") {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "return { %s };\n})();\n", strings.Join(m.exports, ", "))
	}
	return b.String(), nil
}

// parseModule takes a module apart into what the bundle needs.
func parseModule(rel, src string) (*bundleModule, error) {
	m := &bundleModule{rel: rel}
	lineOf := func(off int) int { return strings.Count(src[:off], "\n") + 1 }
	imports := bundleImport.FindAllStringSubmatchIndex(src, -1)
	exports := bundleExport.FindAllStringSubmatchIndex(src, -1)
	// every import/export at a line start must be one the bundler reads
	known := map[int]bool{}
	for _, x := range imports {
		known[x[0]] = true
	}
	for _, x := range exports {
		known[x[0]] = true
	}
	for _, x := range lineStart.FindAllStringIndex(src, -1) {
		if !known[x[0]] {
			end := strings.IndexByte(src[x[0]:], '\n')
			if end < 0 {
				end = len(src) - x[0]
			}
			return nil, fmt.Errorf("%s:%d: the bundler does not read %q (see cmd/build/bundle.go for the forms it does)", rel, lineOf(x[0]), src[x[0]:x[0]+end])
		}
	}
	var body strings.Builder
	last := 0
	// imports are removed; exports lose their keyword
	type cut struct{ from, to int }
	var cuts []cut
	for _, x := range imports {
		dep := path.Join(path.Dir(rel), src[x[4]:x[5]])
		m.imports = append(m.imports, dep)
		if x[2] >= 0 {
			bind := bundleBind{dep: dep}
			for _, a := range strings.Split(src[x[2]:x[3]], ",") {
				a = strings.TrimSpace(a)
				if a == "" {
					continue
				}
				am := bundleAlias.FindStringSubmatch(a)
				if am == nil {
					return nil, fmt.Errorf("%s:%d: the bundler does not read the import %q", rel, lineOf(x[0]), a)
				}
				local := am[1]
				if am[2] != "" {
					local = am[2]
				}
				bind.names = append(bind.names, [2]string{am[1], local})
			}
			m.binds = append(m.binds, bind)
		}
		cuts = append(cuts, cut{x[0], x[1]})
	}
	for _, x := range exports {
		m.exports = append(m.exports, src[x[2]:x[3]])
		cuts = append(cuts, cut{x[0], x[0] + len("export")})
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].from < cuts[j].from })
	for _, c := range cuts {
		body.WriteString(src[last:c.from])
		last = c.to
	}
	body.WriteString(src[last:])
	m.body = body.String()
	return m, nil
}

// bundledEntries are the module scripts pages load, and the bundles built
// for them (in lib/, where runtime.js and explore.js resolve their
// import.meta.url-relative paths from).
var bundledEntries = map[string]string{
	"app.js":    "lib/app.bundle.js",
	"widget.js": "lib/widget.bundle.js",
}

// bundlePages writes the bundles and points every built page that loads
// an entry at its bundle instead, dropping its modulepreload links; the
// pages meant to be copied (noPreload) keep widget.js.
func bundlePages(o options, m *minify.M) error {
	web := filepath.Join(o.root, "web")
	for entry, bundle := range bundledEntries {
		js, err := bundleEntry(web, entry, path.Dir(bundle))
		if err != nil {
			return fmt.Errorf("bundling %s: %w", entry, err)
		}
		data := []byte(js)
		if o.minify {
			if data, err = m.Bytes("text/javascript", data); err != nil {
				return fmt.Errorf("minify %s: %w", bundle, err)
			}
		}
		if err := os.WriteFile(filepath.Join(o.out, filepath.FromSlash(bundle)), data, 0o644); err != nil {
			return err
		}
	}
	n := 0
	err := filepath.WalkDir(o.out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		rel, err := filepath.Rel(o.out, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if noPreload[rel] {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		page, changed := bundlePage(rel, string(src))
		if !changed {
			return nil
		}
		n++
		return os.WriteFile(p, []byte(page), 0o644)
	})
	if err == nil {
		fmt.Fprintf(o.log, "bundles: %d pages load one script\n", n)
	}
	return err
}

var modPreloadLine = regexp.MustCompile(`<link rel="modulepreload" href="[^"]+">\n?`)

// bundlePage rewrites one page (at rel under the site).
func bundlePage(rel, page string) (string, bool) {
	changed := false
	page = moduleScript.ReplaceAllStringFunc(page, func(tag string) string {
		src := moduleScript.FindStringSubmatch(tag)[1]
		target := path.Join(path.Dir(rel), src)
		bundle, ok := bundledEntries[target]
		if !ok {
			return tag
		}
		changed = true
		up := strings.Repeat("../", strings.Count(rel, "/"))
		return `<script type="module" src="` + up + bundle + `"`
	})
	if changed {
		page = modPreloadLine.ReplaceAllString(page, "")
	}
	return page, changed
}
