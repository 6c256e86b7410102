package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The lessons package is written by someone else at the same time, so
// cmd/build cannot import it: while it does not exist (or does not expose
// the entry point yet) the import would break this build. Instead the
// contract goes through the filesystem: when lessons/render.go declares
//
//	func BuildSite(outDir string) error
//
// a two-line program calling it is run with `go run`. It runs after web/
// is copied, so lesson pages can use ../widget.js and friends.

const lessonsMain = `package main

import (
	"fmt"
	"os"

	"github.com/klp-playground/klp/lessons"
)

func main() {
	if err := lessons.BuildSite(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`

// hasBuildSite reports whether file declares func BuildSite(string) error.
func hasBuildSite(file string) (bool, error) {
	src, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	f, err := parser.ParseFile(token.NewFileSet(), file, src, parser.SkipObjectResolution)
	if err != nil {
		return false, fmt.Errorf("%s: %w", file, err)
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || fn.Name.Name != "BuildSite" {
			continue
		}
		p, r := fn.Type.Params.List, fn.Type.Results
		if len(p) == 1 && len(p[0].Names) <= 1 && isIdent(p[0].Type, "string") &&
			r != nil && len(r.List) == 1 && isIdent(r.List[0].Type, "error") {
			return true, nil
		}
		return false, fmt.Errorf("%s: BuildSite has the wrong signature (want func BuildSite(outDir string) error)", file)
	}
	return false, nil
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func buildLessons(o options) error {
	ok, err := hasBuildSite(filepath.Join(o.root, "lessons", "render.go"))
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(o.log, "lessons: skipped (no lessons.BuildSite in lessons/render.go)")
		return nil
	}
	tmp, err := os.MkdirTemp("", "klp-build-lessons-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	main := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(main, []byte(lessonsMain), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(goCmd(), "run", main, o.out)
	cmd.Dir = o.root // resolves the import in this module
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("lessons.BuildSite: %w", err)
	}
	var pages []string
	_ = filepath.WalkDir(o.out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".html") {
			pages = append(pages, p)
		}
		return nil
	})
	fmt.Fprintf(o.log, "lessons: rendered (site now has %d HTML pages)\n", len(pages))
	return nil
}
