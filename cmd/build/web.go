package main

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/html"
	"github.com/tdewolff/minify/v2/js"
	"github.com/tdewolff/minify/v2/json"
	"github.com/tdewolff/minify/v2/svg"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// mimeByExt maps the web/ files we minify to their minifier.
var mimeByExt = map[string]string{
	".html": "text/html",
	".css":  "text/css",
	".js":   "text/javascript",
	".svg":  "image/svg+xml",
	".json": "application/json",
}

func newMinifier() *minify.M {
	m := minify.New()
	m.AddFunc("text/css", css.Minify)
	// Keep <html>, <head> and <body>, and end tags: the page is small and
	// explicit markup is easier to debug from view-source.
	m.Add("text/html", &html.Minifier{KeepDocumentTags: true, KeepEndTags: true, KeepQuotes: true})
	m.AddFunc("image/svg+xml", svg.Minify)
	m.AddFunc("application/json", json.Minify)
	m.Add("text/javascript", &js.Minifier{})
	return m
}

// copyWeb copies src into out, minifying what it can. A minifier error is
// fatal: shipping a half-minified script is worse than failing the build.
func copyWeb(src, out string, m *minify.M, doMinify bool) (int, error) {
	n := 0
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		// Dotfiles and the folder's README (the widget's documentation for
		// developers) are not part of the site.
		if (strings.HasPrefix(d.Name(), ".") && rel != ".") || rel == "README.md" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := filepath.Join(out, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if mt, ok := mimeByExt[strings.ToLower(filepath.Ext(p))]; ok && doMinify {
			min, err := m.Bytes(mt, data)
			if err != nil {
				return fmt.Errorf("minify %s: %w", rel, err)
			}
			data = min
		}
		n++
		return os.WriteFile(dst, data, 0o644)
	})
	return n, err
}

var docPage = template.Must(template.New("doc").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{{.Title}} · klp playground</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="style.css">
</head>
<body>
<header class="site"><div class="brand"><h1><a href="./">klp playground</a></h1><p class="tagline">{{.Title}}</p></div></header>
<main class="doc">
{{.Body}}
</main>
</body>
</html>
`))

var h1Re = regexp.MustCompile(`(?m)^# (.+)$`)

// renderDoc turns a Markdown reference page into a page of the site.
// goldmark escapes raw HTML by default, so the page stays CSP-clean.
func renderDoc(src, dst string) error {
	md, err := os.ReadFile(src)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	title := "The scenario language"
	if m := h1Re.FindSubmatch(md); m != nil {
		title = string(m[1])
	}
	var body bytes.Buffer
	g := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithParserOptions(parser.WithAutoHeadingID()))
	if err := g.Convert(md, &body); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	var page bytes.Buffer
	if err := docPage.Execute(&page, map[string]any{"Title": title, "Body": template.HTML(body.String())}); err != nil {
		return err
	}
	return os.WriteFile(dst, page.Bytes(), 0o644)
}
