package e2e

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// floorPage is the least a page can be: no script but the probe's, no
// style sheet, one task lane drawn as the playground draws it (an SVG in
// #pg's shadow root, declared in the HTML). Its first meaningful paint is
// the floor under BenchmarkPageLoad's on this machine and browser.
const floorPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>floor</title></head>
<body><h1>klp playground</h1><div id="pg"><template shadowrootmode="open"><div class="panel timeline">
<svg width="600" height="40"><g class="lane task"><rect width="300" height="16" fill="#4a7"/><text x="4" y="12">1 bash</text></g></svg>
</div></template></div><script>document.body.dataset.ready = "true"</script></body></html>`

// BenchmarkPageLoadFloor measures navigation → first meaningful paint of
// floorPage in a new tab with the HTTP cache off, as BenchmarkPageLoad's
// cold loads do: what a new renderer, its first frame and the probe cost
// before any of the playground's own work.
func BenchmarkPageLoadFloor(b *testing.B) {
	needBrowser(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(floorPage))
	}))
	defer srv.Close()
	bctx, done := freshBrowser(b)
	defer done()
	var fmp, dcl []float64
	for b.Loop() {
		tb := newTabIn(b, bctx, time.Minute)
		prepareLoadTab(tb, true)
		t := loadOnce(tb, srv.URL+"/")
		tb.close()
		if t.FMP <= 0 {
			b.Fatal("the floor page's lane was never seen drawn")
		}
		fmp, dcl = append(fmp, t.FMP), append(dcl, t.DCL)
	}
	b.StopTimer()
	s := summarize(fmp)
	b.ReportMetric(s.median, "first-paint-median-ms")
	b.ReportMetric(s.p95, "first-paint-p95-ms")
	report(b, "static page, cold: navigation → first meaningful paint %v", s)
	report(b, "static page, cold: DOMContentLoaded %v", summarize(dcl))
}
