package lessons

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
)

// The pages load the site's one widget script and stylesheet from the
// directory above, and lessons.css next to them; they carry no inline
// script or style, so the site can run under a strict
// Content-Security-Policy.
var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.ID}} · {{.L.Title}} · klp playground</title>
{{- with .L.Summary}}
<meta name="description" content="{{.}}">
{{- end}}
<link rel="stylesheet" href="../style.css">
<link rel="stylesheet" href="lessons.css">
<script type="module" src="../widget.js"></script>
</head>
<body class="klp-page klp-lesson-page" data-lesson="{{.L.ID}}" data-steps="{{len .L.Steps}}">
{{template "nav" .}}
<main id="main">
<article class="klp-lesson" data-lesson="{{.L.ID}}">
<h1><span class="klp-lesson-number">{{.L.ID}}</span> {{.L.Title}}</h1>
<noscript><p class="klp-noscript">The boxes of this lesson run a simulated kernel and need JavaScript. Without it each box shows its start state, its goals and a reference solution as text.</p></noscript>
{{.Body}}</article>
</main>
<footer class="klp-lesson-footer">
{{template "nav" .Footer}}
</footer>
</body>
</html>
{{define "nav"}}<nav class="klp-lesson-nav" aria-label="{{if .InFooter}}Lessons, at the end of the page{{else}}Lessons{{end}}">
<a class="klp-index-link" href="index.html">All lessons</a>
{{- with .Prev}}
<a class="klp-prev" rel="prev" href="{{.Slug}}.html" data-lesson="{{.ID}}">← {{.ID}} {{.Title}}</a>
{{- end}}
{{- with .Next}}
<a class="klp-next" rel="next" href="{{.Slug}}.html" data-lesson="{{.ID}}">{{.ID}} {{.Title}} →</a>
{{- end}}
</nav>{{end}}
`))

var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lessons · klp playground</title>
<meta name="description" content="Lessons on the Linux kernel's livepatch consistency model, with a simulated kernel in every page.">
<link rel="stylesheet" href="../style.css">
<link rel="stylesheet" href="lessons.css">
<script type="module" src="../widget.js"></script>
</head>
<body class="klp-page klp-index-page">
<nav class="klp-lesson-nav" aria-label="Site">
<a class="klp-home-link" href="../">Playground</a>
</nav>
<main id="main">
<h1>The livepatch consistency model, in {{len .}} lessons</h1>
<p>Each lesson runs a simulated kernel in the page. A lesson is done when its goals are met; progress is kept in this browser only.</p>
<ol class="klp-syllabus">
{{- range .}}
<li class="klp-syllabus-item" data-lesson="{{.ID}}" data-steps="{{len .Steps}}">
<a href="{{.Slug}}.html"><span class="klp-lesson-number">{{.ID}}</span> {{.Title}}</a>
{{- with .Summary}}
<p class="klp-summary">{{.}}</p>
{{- end}}
<span class="klp-progress" data-lesson="{{.ID}}" data-steps="{{len .Steps}}"></span>
</li>
{{- end}}
</ol>
<p class="klp-embed-note">The box in these lessons is a custom element, <code>&lt;klp-playground&gt;</code>, that any page can embed with one script tag: <a href="../docs/embed-example.html">embedding the playground in your documentation</a>.</p>
</main>
</body>
</html>
`))

// lessonsCSS is written next to the pages as lessons.css.
//
//go:embed lessons.css
var lessonsCSS []byte

type pageData struct {
	L          *Lesson
	Prev, Next *Lesson
	Body       template.HTML
	InFooter   bool // the second nav: landmarks of one kind need names of their own
}

// Footer is the page data for the nav at the foot of the page.
func (p pageData) Footer() pageData {
	p.InFooter = true
	return p
}

// Page renders a lesson's whole HTML page; prev and next may be nil.
func Page(l, prev, next *Lesson) ([]byte, error) {
	var b bytes.Buffer
	// The body comes from goldmark (raw HTML in the Markdown is not
	// rendered) and the widget renderer, which escapes what it writes.
	err := pageTmpl.Execute(&b, pageData{L: l, Prev: prev, Next: next, Body: template.HTML(l.HTML)})
	return b.Bytes(), err
}

// Index renders the syllabus page.
func Index(ls []*Lesson) ([]byte, error) {
	var b bytes.Buffer
	err := indexTmpl.Execute(&b, ls)
	return b.Bytes(), err
}

// BuildSite renders every lesson to outDir/lessons/NN-slug.html, the
// syllabus to outDir/lessons/index.html and their stylesheet to
// outDir/lessons/lessons.css. The pages expect the widget script and the
// site's stylesheet at outDir/widget.js and outDir/style.css. A
// lesson that does not render (a broken scenario, say) fails the build
// with its file and line, and nothing is written.
func BuildSite(outDir string) error {
	ls, err := Load()
	if err != nil {
		return err
	}
	pages := map[string][]byte{}
	for i, l := range ls {
		var prev, next *Lesson
		if i > 0 {
			prev = ls[i-1]
		}
		if i+1 < len(ls) {
			next = ls[i+1]
		}
		b, err := Page(l, prev, next)
		if err != nil {
			return fmt.Errorf("%s: %v", l.File, err)
		}
		pages[l.Slug+".html"] = b
	}
	idx, err := Index(ls)
	if err != nil {
		return fmt.Errorf("lessons index: %v", err)
	}
	pages["index.html"] = idx
	pages["lessons.css"] = lessonsCSS
	dir := filepath.Join(outDir, "lessons")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range pages {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
