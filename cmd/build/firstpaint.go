package main

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/wasm/jsonenc"
)

// First paint before the WebAssembly: every <klp-playground> of the built
// pages gets its starting scenario's first view, run here natively, as a
// JSON data block (jsonenc.FirstPaint: what the bridge would return). The
// widget draws it with its own panels at once (web/lib/firstpaint.js) and
// brings the controls to life when the wasm is ready. A data block is not
// a script, so the site's CSP (script-src 'self') does not apply to it;
// jsonenc escapes "<", so it cannot close the element early.

var (
	attrRE       = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
	fallbackPre  = regexp.MustCompile(`(?s)<pre\b[^>]*class="[^"]*\bklp-fallback\b[^"]*"[^>]*>(.*?)</pre>`)
	templateBody = regexp.MustCompile(`(?s)<template>(.*?)</template>`)
	plainPre     = regexp.MustCompile(`(?s)<pre\b[^>]*>(.*?)</pre>`)
	anyTag       = regexp.MustCompile(`<[^>]*>`)
)

// prerenderPages adds the first views to every page under o.out.
func prerenderPages(o options) error {
	n := 0
	err := filepath.WalkDir(o.out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out, k, err := prerender(string(src), o.out)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if k == 0 {
			return nil
		}
		n += k
		return os.WriteFile(p, []byte(out), 0o644)
	})
	if err == nil {
		fmt.Fprintf(o.log, "first paint: %d widgets prerendered\n", n)
	}
	return err
}

// prerender returns page with a data block after each widget's opening
// tag whose scenario it can find, and how many it added.
func prerender(page, site string) (string, int, error) {
	var b strings.Builder
	n, last := 0, 0
	for _, loc := range startTags(page, "klp-playground") {
		tag := page[loc[0]:loc[1]]
		body := page[loc[1]:]
		if end := strings.Index(body, "</klp-playground>"); end >= 0 {
			body = body[:end]
		}
		if strings.Contains(body, `class="klp-first"`) {
			continue
		}
		text, ok, err := widgetScenario(tag, body, site)
		if err != nil {
			return "", 0, err
		}
		if !ok {
			continue
		}
		s, start, err := scenario.NewSession("", text)
		if err != nil {
			return "", 0, fmt.Errorf("a widget's scenario does not run: %w", err)
		}
		b.WriteString(page[last:loc[1]])
		b.WriteString(`<script type="application/json" class="klp-first">`)
		b.Write(jsonenc.FirstPaint(nil, s, start))
		b.WriteString(`</script>`)
		last = loc[1]
		n++
	}
	b.WriteString(page[last:])
	return b.String(), n, nil
}

// startTags finds the start tags named name in page, as a browser's
// tokenizer would: not inside another tag's attribute values (a minified
// <meta content="…"> may hold "<klp-playground>" as text), comments, or
// the raw text of script and style. Each is [start, end) of the tag.
func startTags(page, name string) [][2]int {
	var out [][2]int
	lower := strings.ToLower(page)
	for i := 0; i < len(page); {
		if page[i] != '<' {
			i++
			continue
		}
		if strings.HasPrefix(page[i:], "<!--") {
			end := strings.Index(page[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		// the tag's end: the first '>' outside quotes
		j, quote := i+1, byte(0)
		for ; j < len(page); j++ {
			c := page[j]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '>':
				goto closed
			}
		}
		break
	closed:
		tag := lower[i+1 : j]
		tagName := tag
		if k := strings.IndexAny(tag, " \t\n\r\f/"); k >= 0 {
			tagName = tag[:k]
		}
		if tagName == name {
			out = append(out, [2]int{i, j + 1})
		}
		i = j + 1
		if tagName == "script" || tagName == "style" {
			end := strings.Index(lower[i:], "</"+tagName)
			if end < 0 {
				break
			}
			i += end
		}
	}
	return out
}

// widgetScenario finds the text a widget starts with, as web/widget.js
// does: the playground page's first example, a lesson's fallback <pre>,
// a <template>, a <pre>; with its profile attribute applied. A widget that
// fetches its scenario (scenario-src) is not prerendered.
func widgetScenario(tag, body, site string) (string, bool, error) {
	attrs := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(strings.TrimSuffix(strings.TrimPrefix(tag, "<klp-playground"), ">"), -1) {
		attrs[m[1]] = html.UnescapeString(m[2])
	}
	if _, ok := attrs["scenario-src"]; ok {
		return "", false, nil
	}
	var text string
	if _, ok := attrs["manual"]; ok {
		// the playground page loads the first example (web/app.js)
		idx, err := os.ReadFile(filepath.Join(site, "examples", "index.json"))
		if err != nil {
			return "", false, err
		}
		var list []struct{ File string }
		if err := json.Unmarshal(idx, &list); err != nil || len(list) == 0 {
			return "", false, fmt.Errorf("examples/index.json: %v", err)
		}
		src, err := os.ReadFile(filepath.Join(site, "examples", filepath.Base(list[0].File)))
		if err != nil {
			return "", false, err
		}
		text = string(src)
	} else {
		for _, re := range []*regexp.Regexp{fallbackPre, templateBody, plainPre} {
			if m := re.FindStringSubmatch(body); m != nil {
				// textContent, as the widget reads it
				text = html.UnescapeString(anyTag.ReplaceAllString(m[1], ""))
				break
			}
		}
	}
	text = strings.TrimPrefix(text, "\n")
	if strings.TrimSpace(text) == "" {
		return "", false, nil
	}
	return scenario.WithProfile(text, attrs["profile"]), true, nil
}
