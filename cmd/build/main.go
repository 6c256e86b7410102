// Command build builds the static site of the klp playground:
//
//	go run ./cmd/build -out dist
//
// It compiles ./wasm for GOOS=js GOARCH=wasm into dist/klp.wasm, copies
// wasm_exec.js from the same Go toolchain (the two must match), minifies
// web/ (HTML, CSS, JS, SVG, JSON) into dist/, renders docs/scenario.md as
// dist/scenario.html, renders the lessons (package lessons), and writes
// precompressed .gz and .br siblings that cmd/serve hands out. It prints the wasm's raw, gzip and brotli sizes.
//
// Flags:
//
//	-out DIR       output directory (default dist); it is emptied first,
//	               but only if it is empty or was made by this command
//	-minify=false  copy web/ unminified (for debugging in the browser)
//	-br=false      skip brotli (it is the slow step: ~10 s for the wasm)
//	-lessons=false skip the lessons
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
)

// marker names the file that says a directory is ours to empty.
const marker = ".klp-build"

type options struct {
	root    string // module root (where go.mod is)
	out     string
	minify  bool
	brotli  bool
	lessons bool
	log     io.Writer
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "dist", "output directory")
	flag.BoolVar(&o.minify, "minify", true, "minify HTML, CSS, JS and SVG")
	flag.BoolVar(&o.brotli, "br", true, "write .br files as well as .gz")
	flag.BoolVar(&o.lessons, "lessons", true, "render the lessons")
	flag.Parse()
	o.log = os.Stdout
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	o.root = root
	if err := build(o); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

// moduleRoot finds the directory holding go.mod, from the working
// directory upwards, so the command works from any subdirectory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

func build(o options) error {
	start := time.Now()
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	o.out = out
	if err := prepareOut(out); err != nil {
		return err
	}
	goroot, err := goEnv(o.root, "GOROOT")
	if err != nil {
		return err
	}
	if err := buildWasm(o); err != nil {
		return err
	}
	js, err := os.ReadFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("wasm_exec.js: %w", err)
	}
	m := newMinifier()
	if o.minify {
		if js, err = m.Bytes("text/javascript", js); err != nil {
			return fmt.Errorf("minify wasm_exec.js: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(out, "wasm_exec.js"), js, 0o644); err != nil {
		return err
	}
	n, err := copyWeb(filepath.Join(o.root, "web"), out, m, o.minify)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.log, "web: %d files\n", n)
	if err := writeFavicon(filepath.Join(out, "favicon.ico")); err != nil {
		return err
	}
	if err := renderDoc(filepath.Join(o.root, "docs", "scenario.md"), filepath.Join(out, "scenario.html")); err != nil {
		return err
	}
	if o.lessons {
		if err := buildLessons(o); err != nil {
			return err
		}
	}
	if err := prerenderPages(o); err != nil {
		return err
	}
	if err := bundlePages(o, m); err != nil {
		return err
	}
	if err := compressAll(out, o.brotli); err != nil {
		return err
	}
	if err := reportWasm(o); err != nil {
		return err
	}
	fmt.Fprintf(o.log, "built %s in %v\n", out, time.Since(start).Round(10*time.Millisecond))
	return nil
}

// prepareOut empties out (keeping the directory), refusing to touch a non-empty directory it did
// not make (a mistyped -out must not delete someone's files).
func prepareOut(out string) error {
	ents, err := os.ReadDir(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case len(ents) > 0:
		if _, err := os.Stat(filepath.Join(out, marker)); err != nil {
			return fmt.Errorf("%s is not empty and was not made by cmd/build (no %s); remove it or pick another -out", out, marker)
		}
		// Empty it but keep the directory itself: a running cmd/serve
		// holds it open (os.Root) and serves the new build at once.
		for _, e := range ents {
			if err := os.RemoveAll(filepath.Join(out, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, marker), []byte("made by go run ./cmd/build; emptied on the next build\n"), 0o644)
}

func goCmd() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

func goEnv(dir, name string) (string, error) {
	cmd := exec.Command(goCmd(), "env", name)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// buildWasm compiles the bridge. The flags match the Node test and the
// e2e tests, so all of them share one build cache entry.
func buildWasm(o options) error {
	t := time.Now()
	cmd := exec.Command(goCmd(), "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(o.out, "klp.wasm"), "./wasm")
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building ./wasm for js/wasm: %w", err)
	}
	fmt.Fprintf(o.log, "wasm: built in %v\n", time.Since(t).Round(10*time.Millisecond))
	return nil
}

// compressible lists what cmd/serve may send precompressed.
var compressible = map[string]bool{
	".wasm": true, ".js": true, ".css": true, ".html": true, ".svg": true, ".json": true, ".md": true, ".txt": true,
}

// minCompress: below this, headers cost more than compression saves.
const minCompress = 1024

// compressAll writes .gz (and .br) next to every compressible file of at
// least minCompress bytes, when the result is smaller.
func compressAll(out string, withBrotli bool) error {
	return filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !compressible[strings.ToLower(filepath.Ext(p))] {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil || len(data) < minCompress {
			return err
		}
		gz, err := gzipBytes(data)
		if err != nil {
			return err
		}
		if len(gz) < len(data) {
			if err := os.WriteFile(p+".gz", gz, 0o644); err != nil {
				return err
			}
		}
		if withBrotli {
			br, err := brotliBytes(data)
			if err != nil {
				return err
			}
			if len(br) < len(data) {
				if err := os.WriteFile(p+".br", br, 0o644); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func gzipBytes(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func brotliBytes(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, brotli.BestCompression)
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func reportWasm(o options) error {
	p := filepath.Join(o.out, "klp.wasm")
	size := func(name string) string {
		fi, err := os.Stat(name)
		if err != nil {
			return "-"
		}
		return fmt.Sprintf("%d", fi.Size())
	}
	fmt.Fprintf(o.log, "klp.wasm: raw %s bytes, gzip %s, br %s\n", size(p), size(p+".gz"), size(p+".br"))
	return nil
}
