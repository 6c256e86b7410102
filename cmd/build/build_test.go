package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/klp-playground/klp/core/scenario"
)

const webDir = "../../web"

// The examples shipped in the dropdown must run.
func TestExamplesRun(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(webDir, "examples", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var list []struct{ File, Title string }
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatalf("examples/index.json: %v", err)
	}
	if len(list) == 0 || list[0].File != "default.klp" {
		t.Fatalf("the first example must be default.klp (the widget's fallback), got %+v", list)
	}
	listed := map[string]bool{}
	for _, e := range list {
		listed[e.File] = true
		if e.Title == "" {
			t.Errorf("%s has no title", e.File)
		}
		src, err := os.ReadFile(filepath.Join(webDir, "examples", e.File))
		if err != nil {
			t.Error(err)
			continue
		}
		s, out, err := scenario.NewSession(e.File, string(src))
		if err != nil {
			t.Errorf("%s: %v", e.File, err)
			continue
		}
		for _, o := range out {
			if o.Kind == "fail" || o.Kind == "stderr" {
				t.Errorf("%s: %s: %s", e.File, o.Kind, o.Text)
			}
		}
		// Share links carry Source(); it must load back.
		if _, _, err := scenario.NewSession("again", s.Source()); err != nil {
			t.Errorf("%s: Source() does not load back: %v", e.File, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(webDir, "examples", "*.klp"))
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not listed in examples/index.json", f)
		}
	}
}

var scriptTag = regexp.MustCompile(`(?i)<script\b[^>]*>`)

// The site is served with script-src 'self' and style-src 'self': no
// inline script, inline style or event-handler attribute may appear, and
// scripts must not need eval. innerHTML is banned outright so that text
// from links and the simulation can never become markup.
func TestWebIsCSPClean(t *testing.T) {
	checks := []struct {
		ext  string
		re   *regexp.Regexp
		what string
	}{
		{".html", regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`), "inline script"},
		{".html", regexp.MustCompile(`(?i)<style`), "style element"},
		{".html", regexp.MustCompile(`(?i)\sstyle\s*=`), "style attribute"},
		{".html", regexp.MustCompile(`(?i)\son[a-z]+\s*=`), "event-handler attribute"},
		{".js", regexp.MustCompile(`\binnerHTML\b|\bouterHTML\s*=|insertAdjacentHTML|document\.write`), "HTML injection"},
		{".js", regexp.MustCompile(`\beval\s*\(|new Function\s*\(`), "eval"},
		{".js", regexp.MustCompile(`setAttribute\(\s*["']style["']|\.style\.cssText`), "inline style"},
	}
	err := filepath.WalkDir(webDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if filepath.Ext(p) == ".html" {
			for _, tag := range scriptTag.FindAll(src, -1) {
				if !strings.Contains(strings.ToLower(string(tag)), "src=") {
					t.Errorf("%s: script without src: %s", p, tag)
				}
			}
		}
		for _, c := range checks {
			if filepath.Ext(p) != c.ext {
				continue
			}
			if loc := c.re.FindIndex(src); loc != nil {
				line := 1 + strings.Count(string(src[:loc[0]]), "\n")
				t.Errorf("%s:%d: %s: %q", p, line, c.what, src[loc[0]:loc[1]])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Minifying must not fail on any web file, and must keep the module
// syntax the browser needs.
func TestMinifyWeb(t *testing.T) {
	out := t.TempDir()
	n, err := copyWeb(webDir, out, newMinifier(), true)
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("copied only %d files", n)
	}
	w, err := os.ReadFile(filepath.Join(out, "widget.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"import.meta.url", "customElements.define", "klp-playground"} {
		if !strings.Contains(string(w)+readFile(t, filepath.Join(out, "lib", "runtime.js")), want) {
			t.Errorf("minified scripts lost %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "README.md")); err == nil {
		t.Error("web/README.md was copied into the site")
	}
	html := readFile(t, filepath.Join(out, "index.html"))
	for _, want := range []string{`<klp-playground`, `id="pg"`, `manual`, `src="app.js"`} {
		if !strings.Contains(html, want) {
			t.Errorf("minified index.html lacks %s:\n%s", want, html)
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPrepareOutRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := prepareOut(dir); err == nil {
		t.Fatal("prepareOut emptied a directory it did not make")
	}
	if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
		t.Fatal("the file is gone")
	}
	out := filepath.Join(t.TempDir(), "dist")
	if err := prepareOut(out); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(out, "lessons"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"old.js", "lessons/old.html"} {
		if err := os.WriteFile(filepath.Join(out, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A running cmd/serve holds the directory open (os.Root): it must see
	// the next build, so the directory is emptied, not replaced.
	served, err := os.OpenRoot(out)
	if err != nil {
		t.Fatal(err)
	}
	defer served.Close()
	if err := prepareOut(out); err != nil {
		t.Fatalf("second build into our own dir: %v", err)
	}
	for _, f := range []string{"old.js", "lessons"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("stale %s survived", f)
		}
	}
	if err := os.WriteFile(filepath.Join(out, "new.js"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := served.Stat("new.js"); err != nil {
		t.Errorf("a server started before the build does not see it: %v", err)
	}
}

func TestCompressAll(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("livepatch consistency model ", 200)
	for name, body := range map[string]string{"a.js": big, "small.css": "a{}", "x.klp": big} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := compressAll(dir, true); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.js.gz", "a.js.br"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s missing", name)
		}
	}
	for _, name := range []string{"small.css.gz", "x.klp.gz"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s should not exist", name)
		}
	}
	f, err := os.Open(filepath.Join(dir, "a.js.br"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(brotliReader(f))
	if err != nil || string(b) != big {
		t.Errorf("a.js.br does not decompress to the file: %v", err)
	}
}

func brotliReader(r io.Reader) io.Reader { return brotli.NewReader(r) }

func TestFavicon(t *testing.T) {
	p := filepath.Join(t.TempDir(), "favicon.ico")
	if err := writeFavicon(p); err != nil {
		t.Fatal(err)
	}
	b := readFile(t, p)
	if !strings.HasPrefix(b, "\x00\x00\x01\x00\x01\x00") || !strings.Contains(b[22:30], "PNG") {
		t.Fatalf("not an ICO holding a PNG: % x", b[:30])
	}
}
