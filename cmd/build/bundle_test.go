package main

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// writeWeb makes a web/ directory of the given files.
func writeWeb(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A bundle runs its modules once each, dependencies first in import
// order, with the imported names (aliases too) bound to what the
// dependency exported; run by node, it prints what the modules would.
func TestBundleRunsModulesInOrder(t *testing.T) {
	web := writeWeb(t, map[string]string{
		"app.js": `import "./side.js";
import {
  twice,
  Box as B,
} from "./lib/math.js";
import { NAME } from "./lib/name.js";
log.push("app " + twice(2) + " " + new B(3).v + " " + NAME);
`,
		"side.js":     "import { NAME } from \"./lib/name.js\";\nlog.push(\"side \" + NAME);\n",
		"lib/math.js": "import { NAME } from \"./name.js\";\nlog.push(\"math\");\nexport function twice(x) { return 2 * x; }\nexport class Box { constructor(v) { this.v = v; } }\nexport const UNUSED = NAME;\n",
		"lib/name.js": "log.push(\"name\");\nexport const NAME = \"klp\";\n// export in a comment is not at a line start\n",
	})
	js, err := bundleEntry(web, "app.js", "lib")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"\nimport ", "\nexport "} {
		if strings.Contains("\n"+js, bad) {
			t.Errorf("the bundle still has %q:\n%s", strings.TrimSpace(bad), js)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to run the bundle (make deps installs it): %v", err)
	}
	prog := filepath.Join(t.TempDir(), "run.mjs")
	if err := os.WriteFile(prog, []byte("globalThis.log = [];\n"+js+"console.log(log.join(\"|\"));\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, prog).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s\n%s", err, out, js)
	}
	if got, want := strings.TrimSpace(string(out)), "name|side klp|math|app 4 3 klp"; got != want {
		t.Errorf("the modules ran as %q, want %q (ES module order)", got, want)
	}
}

// What the bundler cannot read exactly, it refuses, naming file and line.
func TestBundleRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"export let", map[string]string{"app.js": "let a = 1;\nexport let b = 2;\n"}, `app.js:2: the bundler does not read "export let b = 2;"`},
		{"export list", map[string]string{"app.js": "const a = 1;\nexport { a };\n"}, `app.js:2: the bundler does not read "export { a };"`},
		{"namespace import", map[string]string{"app.js": "import * as m from \"./m.js\";\n", "m.js": ""}, `app.js:1: the bundler does not read`},
		{"missing export", map[string]string{"app.js": "import { nope } from \"./m.js\";\n", "m.js": "export const yes = 1;\n"}, "app.js imports nope from m.js, which does not export it"},
		{"cycle", map[string]string{"app.js": "import \"./a.js\";\n", "a.js": "import \"./b.js\";\n", "b.js": "import \"./a.js\";\n"}, "import cycle through a.js"},
		{"missing file", map[string]string{"app.js": "import \"./gone.js\";\n"}, "gone.js"},
		{"import.meta elsewhere", map[string]string{"app.js": "const u = new URL(\"x\", import.meta.url);\n"}, "app.js reads import.meta, but the bundle lives in lib/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := bundleEntry(writeWeb(t, c.files), "app.js", "lib")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
}

// Pages load the bundle of their entry, relative to where they are, and
// lose their modulepreload links; other scripts are left alone.
func TestBundlePage(t *testing.T) {
	for _, c := range []struct{ rel, page, want string }{
		{"index.html", "<link rel=\"modulepreload\" href=\"lib/dom.js\">\n<script type=\"module\" src=\"app.js\"></script>", `<script type="module" src="lib/app.bundle.js"></script>`},
		{"lessons/01.html", `<script type="module" src="../widget.js"></script>`, `<script type="module" src="../lib/widget.bundle.js"></script>`},
		{"docs/x.html", `<script type="module" src="../other.js"></script>`, `<script type="module" src="../other.js"></script>`},
	} {
		got, _ := bundlePage(c.rel, c.page)
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.rel, got, c.want)
		}
	}
}

// The site's own entries bundle (web/ uses only the forms the bundler
// reads).
func TestSiteBundles(t *testing.T) {
	for entry := range bundledEntries {
		if _, err := bundleEntry(webDir, entry, path.Dir(bundledEntries[entry])); err != nil {
			t.Errorf("%s: %v", entry, err)
		}
	}
}
