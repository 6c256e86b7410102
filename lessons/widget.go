package lessons

import (
	"bytes"
	"errors"
	"fmt"
	stdhtml "html"
	"regexp"
	"strings"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// KindWidget is the node kind of a ```scenario block after the transformer
// replaced it.
var KindWidget = ast.NewNodeKind("KlpWidget")

// Widget is a live scenario: a ```scenario fenced block, with the
// ```solution block that follows it (if any) folded in.
type Widget struct {
	ast.BaseBlock
	Lesson   string // lesson id ("04"), "" outside a lesson
	Step     int    // 1-based position among the document's scenario blocks
	Panels   string // comma-separated panel names for the widget script
	Scenario string // the block's text, as written
	Line     int    // file line of the scenario's first line
	Goals    []string
	// Solution holds the console lines of the ```solution block, or ""
	// when the scenario has none (HasSolution tells an empty one apart).
	Solution     string
	SolutionLine int
	HasSolution  bool
}

// Kind implements ast.Node.
func (n *Widget) Kind() ast.NodeKind { return KindWidget }

// IsRaw implements ast.Node: the block holds text, not Markdown.
func (n *Widget) IsRaw() bool { return true }

// Dump implements ast.Node.
func (n *Widget) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{
		"Lesson": n.Lesson, "Step": fmt.Sprint(n.Step), "Panels": n.Panels,
		"Goals": fmt.Sprint(len(n.Goals)), "Solution": fmt.Sprint(n.HasSolution),
	}, nil)
}

// knownPanels are the panels the widget script knows (scenario.Panels,
// which it asks the bridge for) and "all". A block picks some with
// ```scenario panels=console,tasks; the lesson's front matter sets the
// default.
func knownPanels() []string { return append(scenario.Panels(), "all") }

// DefaultPanels is what a scenario block shows when neither its info
// string nor the lesson says otherwise.
const DefaultPanels = "console,transition,tasks,log,goals"

var panelsRE = regexp.MustCompile(`^[a-z][a-z0-9-]*(,[a-z][a-z0-9-]*)*$`)

func checkPanels(p string) error {
	if !panelsRE.MatchString(p) {
		return fmt.Errorf("panels=%q: want a comma-separated list of %s", p, strings.Join(knownPanels(), ", "))
	}
	for _, x := range strings.Split(p, ",") {
		ok := false
		for _, k := range knownPanels() {
			ok = ok || k == x
		}
		if !ok {
			return fmt.Errorf("unknown panel %q (known: %s)", x, strings.Join(knownPanels(), ", "))
		}
	}
	return nil
}

// Config tells the extension, through the parser context, which document
// it is working on. Without one it uses file "markdown", no lesson id,
// line 1 and DefaultPanels.
type Config struct {
	File      string // shown in errors
	Lesson    string // data-lesson
	FirstLine int    // file line of the Markdown source's first line
	Panels    string // default panels

	// filled by the transformer
	widgets []*Widget
	errs    []error
}

var configKey = parser.NewContextKey()

// NewContext returns a parser context carrying cfg.
func NewContext(cfg *Config) parser.Context {
	pc := parser.NewContext(parser.WithIDs(stepIDs{parser.NewContext().IDs()}))
	pc.Set(configKey, cfg)
	return pc
}

// StepID is the element id of step n's widget: a page links to a step
// as NN-slug.html#step-2.
func StepID(n int) string { return fmt.Sprintf("step-%d", n) }

var stepIDRE = regexp.MustCompile(`^step-[0-9]+$`)

// stepIDs keeps heading ids off the widgets' ids: a heading "Step 2" would
// otherwise get id step-2 as well, and #step-2 would lead to whichever
// comes first. Such a heading gets step-2-heading.
type stepIDs struct{ parser.IDs }

func (s stepIDs) Generate(value []byte, kind ast.NodeKind) []byte {
	id := s.IDs.Generate(value, kind)
	if stepIDRE.Match(id) {
		return s.IDs.Generate(append(append([]byte(nil), value...), " heading"...), kind)
	}
	return id
}

// Errors returns what the transformer found wrong in the document parsed
// with pc: broken scenarios, stray solutions, bad options. Each error
// names the file and line.
func Errors(pc parser.Context) error {
	if cfg, ok := pc.Get(configKey).(*Config); ok {
		return errors.Join(cfg.errs...)
	}
	return nil
}

// Widgets returns the widgets of the document parsed with pc, in order.
func Widgets(pc parser.Context) []*Widget {
	if cfg, ok := pc.Get(configKey).(*Config); ok {
		return cfg.widgets
	}
	return nil
}

// Extension is the goldmark extension: it turns ```scenario blocks into
// <klp-playground> widgets, folds ```solution blocks into them and marks
// the list under a "Hints" heading.
var Extension goldmark.Extender = widgetExtension{}

type widgetExtension struct{}

func (widgetExtension) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithASTTransformers(util.Prioritized(transformer{}, 100)))
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(widgetRenderer{}, 100)))
}

type transformer struct{}

// lineOf gives the 1-based line of offset in source.
func lineOf(source []byte, offset int) int {
	if offset > len(source) {
		offset = len(source)
	}
	return 1 + bytes.Count(source[:offset], []byte{'\n'})
}

func (transformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	cfg, _ := pc.Get(configKey).(*Config)
	if cfg == nil {
		cfg = &Config{}
		pc.Set(configKey, cfg)
	}
	if cfg.File == "" {
		cfg.File = "markdown"
	}
	if cfg.FirstLine < 1 {
		cfg.FirstLine = 1
	}
	if cfg.Panels == "" {
		cfg.Panels = DefaultPanels
	}
	src := reader.Source()
	// Collect first, change the tree after the walk.
	var blocks []*ast.FencedCodeBlock
	var hints []*ast.Heading
	var tables []*extast.Table
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch b := n.(type) {
		case *ast.FencedCodeBlock:
			switch string(b.Language(src)) {
			case "scenario", "solution":
				blocks = append(blocks, b)
			}
		case *ast.Heading:
			if strings.EqualFold(strings.TrimSpace(plainText(b, src)), "hints") {
				hints = append(hints, b)
			}
		case *extast.Table:
			tables = append(tables, b)
		}
		return ast.WalkContinue, nil
	})
	errf := func(line int, format string, args ...any) {
		cfg.errs = append(cfg.errs, fmt.Errorf("%s:%d: %s", cfg.File, line, fmt.Sprintf(format, args...)))
	}
	var last *Widget
	for _, cb := range blocks {
		fence := cfg.FirstLine
		if cb.Info != nil {
			fence = cfg.FirstLine - 1 + lineOf(src, cb.Info.Segment.Start)
		}
		first := fence + 1
		body := string(cb.Lines().Value(src))
		lang := string(cb.Language(src))
		opts := ""
		if cb.Info != nil {
			info := string(cb.Info.Segment.Value(src))
			if i := strings.IndexAny(info, " \t"); i >= 0 {
				opts = strings.TrimSpace(info[i:])
			}
		}
		if lang == "solution" {
			parent := cb.Parent()
			switch {
			case last == nil:
				errf(fence, "a solution block needs a scenario block before it")
			case last.HasSolution:
				errf(fence, "scenario step %d already has a solution (line %d)", last.Step, last.SolutionLine)
			case opts != "":
				errf(fence, "a solution block takes no options, got %q", opts)
			default:
				last.Solution, last.SolutionLine, last.HasSolution = body, first, true
				checkSolution(cfg, last, errf)
			}
			if parent != nil {
				parent.RemoveChild(parent, cb)
			}
			continue
		}
		w := &Widget{Lesson: cfg.Lesson, Step: len(cfg.widgets) + 1, Panels: cfg.Panels, Scenario: body, Line: first}
		for _, f := range strings.Fields(opts) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "panels":
				if err := checkPanels(v); err != nil {
					errf(fence, "%v", err)
					continue
				}
				w.Panels = v
			default:
				errf(fence, "unknown scenario option %q (known: panels=…)", f)
			}
		}
		checkScenario(cfg, w)
		cfg.widgets = append(cfg.widgets, w)
		last = w
		if parent := cb.Parent(); parent != nil {
			parent.ReplaceChild(parent, cb, w)
		}
	}
	for _, tb := range tables {
		if parent := tb.Parent(); parent != nil {
			box := &scrollBox{}
			parent.ReplaceChild(parent, tb, box)
			box.AppendChild(box, tb)
		}
	}
	for _, h := range hints {
		list, ok := h.NextSibling().(*ast.List)
		if !ok {
			continue
		}
		list.SetAttributeString("class", []byte("klp-hints"))
		if cfg.Lesson != "" {
			list.SetAttributeString("data-lesson", []byte(cfg.Lesson))
		}
		if st := stepBefore(cfg.widgets, h, src, cfg.FirstLine); st > 0 {
			list.SetAttributeString("data-step", []byte(fmt.Sprint(st)))
		}
	}
}

// stepBefore finds the step of the last widget that starts before heading
// h (0 if none).
func stepBefore(ws []*Widget, h *ast.Heading, src []byte, firstLine int) int {
	if h.Lines().Len() == 0 {
		return 0
	}
	line := firstLine - 1 + lineOf(src, h.Lines().At(0).Start)
	st := 0
	for _, w := range ws {
		if w.Line < line {
			st = w.Step
		}
	}
	return st
}

// pad puts text at line first of its file, so that scenario errors name
// the lesson's own line numbers.
func pad(text string, first int) string {
	return strings.Repeat("\n", max(first-1, 0)) + text
}

// checkScenario runs the scenario as the widget will, so that a broken
// lesson fails here: any scenario error, or an expect line that does not
// hold, is reported with the lesson file's line.
func checkScenario(cfg *Config, w *Widget) {
	s, out, err := scenario.NewSession(cfg.File, pad(w.Scenario, w.Line))
	if err != nil {
		cfg.errs = append(cfg.errs, err)
		return
	}
	for _, o := range out {
		if o.Kind == "fail" {
			cfg.errs = append(cfg.errs, errors.New(o.Text))
		}
	}
	for _, g := range s.Goals() {
		w.Goals = append(w.Goals, g.Goal)
	}
}

// checkSolution parses the solution's console lines; whether they meet
// the goals is for the tests to replay.
func checkSolution(cfg *Config, w *Widget, errf func(int, string, ...any)) {
	sc, err := scenario.Parse(cfg.File, pad(w.Solution, w.SolutionLine))
	if err != nil {
		cfg.errs = append(cfg.errs, err)
	} else {
		// The widget's "Run it" sends the solution one line at a time,
		// as a person types it in the console.
		for _, st := range sc.Stmts {
			if strings.Contains(st.String(), "\n") {
				cfg.errs = append(cfg.errs, &scenario.Error{Pos: st.Pos, Msg: fmt.Sprintf("a solution runs one console line at a time; %s … end is a block (declare it in the scenario)", st.Verb)})
			}
		}
	}
	if len(w.Goals) == 0 {
		errf(w.SolutionLine-1, "a solution for step %d, whose scenario has no goal line", w.Step)
	}
}

// plainText concatenates the text of n's inline children.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// KindScroll is the node kind of the box the transformer puts around a
// table.
var KindScroll = ast.NewNodeKind("KlpScroll")

// scrollBox holds a block that may be wider than a phone's screen (a
// table): the box scrolls sideways, so that the page does not.
type scrollBox struct{ ast.BaseBlock }

func (n *scrollBox) Kind() ast.NodeKind { return KindScroll }

func (n *scrollBox) Dump(source []byte, level int) { ast.DumpHelper(n, source, level, nil, nil) }

type widgetRenderer struct{}

func (widgetRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(KindWidget, renderWidget)
	reg.Register(KindScroll, renderScroll)
}

// renderScroll writes the box around a table. It is focusable so that a
// keyboard can scroll it (WCAG 2.1.1), and named so that a screen reader
// says what the stop is.
func renderScroll(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		_, _ = w.WriteString(`<div class="klp-scroll" role="region" aria-label="Table" tabindex="0">` + "\n")
	} else {
		_, _ = w.WriteString("</div>\n")
	}
	return ast.WalkContinue, nil
}

func esc(s string) string { return stdhtml.EscapeString(s) }

// renderWidget writes the <klp-playground> element. Everything in it is
// escaped here: a NodeRenderer writes raw HTML whatever goldmark's
// unsafe setting says. The element works without JavaScript: the
// scenario, its goals and the solution are readable as they stand, each
// under a label. Once the script runs, the widget's shadow root (which has
// no slot) hides all of it.
func renderWidget(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*Widget)
	fmt.Fprintf(w, `<klp-playground panels="%s" class="klp-widget"`, esc(n.Panels))
	if n.Lesson != "" {
		fmt.Fprintf(w, ` data-lesson="%s"`, esc(n.Lesson))
	}
	fmt.Fprintf(w, ` data-step="%d" id="%s">`+"\n", n.Step, StepID(n.Step))
	_, _ = w.WriteString(`<p class="klp-fallback-label">The machine at the start (the live simulator needs JavaScript):</p>` + "\n")
	fmt.Fprintf(w, `<pre class="klp-fallback"><code class="language-scenario">%s</code></pre>`+"\n", esc(n.Scenario))
	if len(n.Goals) > 0 {
		_, _ = w.WriteString(`<p class="klp-fallback-label">Goals:</p>` + "\n")
		_, _ = w.WriteString(`<ol class="klp-goals">` + "\n")
		for i, g := range n.Goals {
			fmt.Fprintf(w, `<li class="klp-goal" data-goal="%d"><code>%s</code></li>`+"\n", i+1, esc(g))
		}
		_, _ = w.WriteString("</ol>\n")
	}
	if n.HasSolution {
		_, _ = w.WriteString(`<details class="klp-solution">` + "\n<summary>Reference solution</summary>\n")
		fmt.Fprintf(w, `<pre class="klp-solution-text"><code class="language-console">%s</code></pre>`+"\n", esc(n.Solution))
		_, _ = w.WriteString("</details>\n")
	}
	_, _ = w.WriteString("</klp-playground>\n")
	return ast.WalkSkipChildren, nil
}
