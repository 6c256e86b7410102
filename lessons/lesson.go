// Package lessons holds the lessons of the klp playground — Markdown files
// NN-slug.md in this directory — and renders them to HTML.
//
// A lesson is Markdown with a small front matter (title, order, summary,
// panels) or a first line "# Title". Three kinds of fenced blocks carry
// the live parts:
//
//	```scenario [panels=console,tasks,…]
//	(scenario language, docs/scenario.md: the start state; its goal lines
//	are the step's goals)
//	```
//	```solution
//	(console lines that, typed after the scenario, meet every goal)
//	```
//
// and a list under a heading "Hints" gives hints. Rendering replaces each
// scenario block by a <klp-playground> element that the page's widget
// script upgrades, with the scenario, goals and solution readable without
// JavaScript. Every scenario runs through scenario.NewSession while the
// lesson renders, so a broken lesson fails the build with its file and
// line.
package lessons

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

//go:embed *.md
var lessonFS embed.FS

// Dir is the lessons' directory in the repository, used in error messages.
const Dir = "lessons"

// Lesson is one rendered lesson.
type Lesson struct {
	File    string // for errors, e.g. "lessons/04-stack-checking.md"
	ID      string // "04": data-lesson, and the key of saved progress
	Slug    string // "04-stack-checking": the page is Slug + ".html"
	Title   string
	Order   int
	Summary string // one line for the syllabus
	Panels  string // default panels of its widgets
	HTML    []byte // the rendered body (the page template adds the rest)
	Steps   []*Widget
}

var fileRE = regexp.MustCompile(`^([0-9]{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$`)

// frontMatter splits "---\nkey: value\n---\n" (or a first line "# Title")
// from the body. It returns the fields, the body and the file line the
// body starts on.
func frontMatter(file string, src []byte) (map[string]string, []byte, int, error) {
	fields := map[string]string{}
	s := string(src)
	if strings.HasPrefix(s, "\ufeff") {
		s = s[3:]
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > 0 && strings.TrimSpace(lines[0]) == "---" {
		for i := 1; i < len(lines); i++ {
			l := strings.TrimSpace(lines[i])
			if l == "---" {
				return fields, []byte(strings.Join(lines[i+1:], "")), i + 2, nil
			}
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				return nil, nil, 0, fmt.Errorf("%s:%d: front matter line %q is not key: value", file, i+1, l)
			}
			k = strings.ToLower(strings.TrimSpace(k))
			v = strings.TrimSpace(v)
			if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
				v = v[1 : len(v)-1]
			}
			switch k {
			case "title", "order", "summary", "panels":
			default:
				return nil, nil, 0, fmt.Errorf("%s:%d: unknown front matter key %q (known: title, order, summary, panels)", file, i+1, k)
			}
			if _, dup := fields[k]; dup {
				return nil, nil, 0, fmt.Errorf("%s:%d: front matter key %q given twice", file, i+1, k)
			}
			fields[k] = v
		}
		return nil, nil, 0, fmt.Errorf("%s:1: front matter is not closed with ---", file)
	}
	if len(lines) > 0 && strings.HasPrefix(lines[0], "# ") {
		fields["title"] = strings.TrimSpace(lines[0][2:])
		return fields, []byte(strings.Join(lines[1:], "")), 2, nil
	}
	return fields, []byte(s), 1, nil
}

func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.Table, Extension),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
}

// Render parses and renders one lesson file. file is the name used in
// errors; its base name NN-slug.md gives the id and slug (other names get
// id "00"). The error lists every problem found, each with file:line.
func Render(file string, src []byte) (*Lesson, error) {
	l := &Lesson{File: file, ID: "00", Slug: strings.TrimSuffix(path.Base(file), ".md")}
	if m := fileRE.FindStringSubmatch(path.Base(file)); m != nil {
		l.ID, l.Slug = m[1], m[1]+"-"+m[2]
	}
	fields, body, first, err := frontMatter(file, src)
	if err != nil {
		return nil, err
	}
	l.Title, l.Summary, l.Panels = fields["title"], fields["summary"], fields["panels"]
	if l.Title == "" {
		return nil, fmt.Errorf("%s:1: the lesson has no title (front matter title: or a first line \"# Title\")", file)
	}
	l.Order, _ = strconv.Atoi(l.ID)
	if o, ok := fields["order"]; ok {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: front matter order %q is not a number", file, o)
		}
		l.Order = n
	}
	if l.Panels == "" {
		l.Panels = DefaultPanels
	} else if err := checkPanels(l.Panels); err != nil {
		return nil, fmt.Errorf("%s: front matter: %v", file, err)
	}
	cfg := &Config{File: file, Lesson: l.ID, FirstLine: first, Panels: l.Panels}
	pc := NewContext(cfg)
	md := newMarkdown()
	doc := md.Parser().Parse(text.NewReader(body), parser.WithContext(pc))
	if err := Errors(pc); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := md.Renderer().Render(&b, body, doc); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	l.HTML = b.Bytes()
	l.Steps = Widgets(pc)
	return l, nil
}

// Load renders every lesson of this directory, sorted by order. Two
// lessons with the same id, slug or order are an error.
func Load() ([]*Lesson, error) {
	return loadFS(lessonFS)
}

func loadFS(fsys fs.FS) ([]*Lesson, error) {
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, err
	}
	var out []*Lesson
	var errs []error
	for _, name := range names {
		if !fileRE.MatchString(name) {
			continue // README.md and the like
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l, err := Render(path.Join(Dir, name), src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, l)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Order < out[j].Order })
	ids, orders := map[string]string{}, map[int]string{}
	for _, l := range out {
		if o, dup := ids[l.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: lesson id %s is also used by %s", l.File, l.ID, o))
		}
		if o, dup := orders[l.Order]; dup {
			errs = append(errs, fmt.Errorf("%s: order %d is also used by %s", l.File, l.Order, o))
		}
		ids[l.ID], orders[l.Order] = l.File, l.File
	}
	if len(out) == 0 {
		errs = append(errs, errors.New("lessons: no lesson files"))
	}
	return out, errors.Join(errs...)
}
