package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// wantCSP is spelled out rather than taken from the csp constant so a typo
// there is caught.
const wantCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"

// site is a served root plus files just outside it that must never leak.
type site struct {
	base string // parent of root; holds the "outside" files
	root string
	h    *Server
}

const secret = "TOP-SECRET-OUTSIDE-ROOT"

func newSite(t testing.TB) *site {
	t.Helper()
	base := t.TempDir()
	s := &site{base: base, root: filepath.Join(base, "site")}
	files := map[string]string{
		// Outside the root: targets of the traversal attempts below.
		"secret.txt":        secret,
		"etc/passwd":        secret,
		"outdir/secret.txt": secret,

		"site/index.html":        "<!doctype html><title>home</title>",
		"site/index.html.br":     "HTML-BR",
		"site/app.wasm":          "WASM-IDENTITY-BYTES",
		"site/app.wasm.br":       "WASM-BR",
		"site/app.wasm.gz":       "WASM-GZIP-BYTES",
		"site/wasm_exec.js":      "console.log('js')",
		"site/widget.mjs":        "export default 1",
		"site/gz.js":             "only-gzip-identity",
		"site/gz.js.gz":          "only-gzip-GZ",
		"site/dirvar.js":         "dirvar-identity",
		"site/dirvar.js.br/x":    "a directory is not a variant",
		"site/style.css":         "body{}",
		"site/icon.svg":          "<svg xmlns='http://www.w3.org/2000/svg'/>",
		"site/data.json":         `{"a":1}`,
		"site/README.md":         "# readme",
		"site/notes.txt":         "notes",
		"site/sample.klp":        "kernel 6.16\n",
		"site/logo.png":          "\x89PNG",
		"site/blob.bin":          "\x00\x01",
		"site/.env":              secret,
		"site/.git/config":       secret,
		"site/a/.hidden":         secret,
		"site/a/file.txt":        "in a",
		"site/sub/index.html":    "<p>sub</p>",
		"site/my dir/index.html": "<p>spaced</p>",
		"site/empty/other.js":    "x",
		// A directory where the index file should be: not a file to serve.
		"site/weird/index.html/x.txt": "x",
	}
	for name, content := range files {
		writeFile(t, filepath.Join(base, name), content)
	}
	h, err := New(s.root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	s.h = h
	return s
}

func writeFile(t testing.TB, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// do sends one request straight to the handler.
func do(t *testing.T, h http.Handler, method, target string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// rawGet sends target byte-for-byte over a real connection, so the test
// also covers what net/http's request parsing hands to the handler.
func rawGet(t *testing.T, addr, target string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func etagOf(content string) string {
	sum := sha256.Sum256([]byte(content))
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func TestContentTypes(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		path, want, body string
	}{
		{"/app.wasm", "application/wasm", "WASM-IDENTITY-BYTES"},
		{"/wasm_exec.js", "text/javascript; charset=utf-8", "console.log('js')"},
		{"/widget.mjs", "text/javascript; charset=utf-8", "export default 1"},
		{"/style.css", "text/css; charset=utf-8", "body{}"},
		{"/index.html", "text/html; charset=utf-8", "<!doctype html><title>home</title>"},
		{"/icon.svg", "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'/>"},
		{"/data.json", "application/json", `{"a":1}`},
		{"/README.md", "text/markdown; charset=utf-8", "# readme"},
		{"/notes.txt", "text/plain; charset=utf-8", "notes"},
		{"/sample.klp", "text/plain; charset=utf-8", "kernel 6.16\n"},
		{"/logo.png", "image/png", "\x89PNG"},
		{"/blob.bin", "application/octet-stream", "\x00\x01"},
		// A variant fetched by its own name is opaque bytes: never labelled
		// as the original type without Content-Encoding, nor as gzip/brotli.
		{"/app.wasm.br", "application/octet-stream", "WASM-BR"},
		{"/app.wasm.gz", "application/octet-stream", "WASM-GZIP-BYTES"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := do(t, s.h, "GET", tt.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.want {
				t.Errorf("Content-Type = %q, want %q", got, tt.want)
			}
			if got := resp.Header.Get("Content-Encoding"); got != "" {
				t.Errorf("Content-Encoding = %q, want none", got)
			}
			if body != tt.body {
				t.Errorf("body = %q, want %q", body, tt.body)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		method, path string
		status       int
		csp          bool   // Content-Security-Policy expected
		cors         bool   // Access-Control-Allow-Origin and CORP expected
		cache        string // expected Cache-Control ("" = absent)
	}{
		{"GET", "/", 200, true, false, "no-cache"},
		{"GET", "/index.html", 200, true, false, "no-cache"},
		{"GET", "/sub/", 200, true, false, "no-cache"},
		{"GET", "/app.wasm", 200, false, true, "public, max-age=300"},
		{"GET", "/wasm_exec.js", 200, false, true, "public, max-age=300"},
		{"GET", "/widget.mjs", 200, false, true, "public, max-age=300"},
		{"GET", "/style.css", 200, false, true, "public, max-age=300"},
		{"GET", "/icon.svg", 200, true, true, "public, max-age=300"}, // SVG can script: CSP too
		{"GET", "/data.json", 200, false, true, "public, max-age=300"},
		{"GET", "/README.md", 200, false, true, "public, max-age=300"},
		{"GET", "/notes.txt", 200, false, true, "public, max-age=300"},
		{"HEAD", "/app.wasm", 200, false, true, "public, max-age=300"},
		{"GET", "/missing.js", 404, true, false, ""},
		{"GET", "/.env", 404, true, false, ""},
		{"POST", "/app.wasm", 405, true, false, ""},
		{"GET", "/a%5cb", 400, true, false, ""},
		{"GET", "/sub", 301, false, false, ""},
		{"OPTIONS", "/app.wasm", 204, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, _ := do(t, s.h, tt.method, tt.path, nil)
			h := resp.Header
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if got := h.Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("Referrer-Policy = %q, want no-referrer", got)
			}
			if got, want := h.Get("Content-Security-Policy"), map[bool]string{true: wantCSP}[tt.csp]; got != want {
				t.Errorf("Content-Security-Policy = %q, want %q", got, want)
			}
			if got, want := h.Get("Access-Control-Allow-Origin"), map[bool]string{true: "*"}[tt.cors]; got != want {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, want)
			}
			if got, want := h.Get("Cross-Origin-Resource-Policy"), map[bool]string{true: "cross-origin"}[tt.cors]; got != want {
				t.Errorf("Cross-Origin-Resource-Policy = %q, want %q", got, want)
			}
			if got := h.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cache)
			}
		})
	}
}

func TestPrecompressed(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		path, acceptEncoding string
		wantEncoding         string // "" = identity
		wantBody, wantType   string
	}{
		{"/app.wasm", "gzip, deflate, br, zstd", "br", "WASM-BR", "application/wasm"},
		{"/app.wasm", "br, gzip", "br", "WASM-BR", "application/wasm"},
		{"/app.wasm", "br", "br", "WASM-BR", "application/wasm"},
		{"/app.wasm", "BR", "br", "WASM-BR", "application/wasm"},
		{"/app.wasm", "gzip;q=1, br;q=0.1", "br", "WASM-BR", "application/wasm"}, // br preferred whenever acceptable
		{"/app.wasm", "gzip", "gzip", "WASM-GZIP-BYTES", "application/wasm"},
		{"/app.wasm", "x-gzip", "gzip", "WASM-GZIP-BYTES", "application/wasm"},
		{"/app.wasm", "br;q=0, gzip", "gzip", "WASM-GZIP-BYTES", "application/wasm"},
		{"/app.wasm", "gzip, br;q=0.000", "gzip", "WASM-GZIP-BYTES", "application/wasm"},
		{"/app.wasm", "br;q=0, *", "gzip", "WASM-GZIP-BYTES", "application/wasm"}, // explicit q=0 beats *
		{"/app.wasm", "br;q=nonsense, gzip", "gzip", "WASM-GZIP-BYTES", "application/wasm"},
		{"/app.wasm", "*", "br", "WASM-BR", "application/wasm"},
		{"/app.wasm", "*;q=0", "", "WASM-IDENTITY-BYTES", "application/wasm"},
		{"/app.wasm", "br;q=0, gzip;q=0", "", "WASM-IDENTITY-BYTES", "application/wasm"},
		{"/app.wasm", "identity", "", "WASM-IDENTITY-BYTES", "application/wasm"},
		{"/app.wasm", "deflate", "", "WASM-IDENTITY-BYTES", "application/wasm"},
		{"/app.wasm", "", "", "WASM-IDENTITY-BYTES", "application/wasm"},
		{"/gz.js", "br, gzip", "gzip", "only-gzip-GZ", "text/javascript; charset=utf-8"},
		{"/gz.js", "br", "", "only-gzip-identity", "text/javascript; charset=utf-8"},
		{"/dirvar.js", "br", "", "dirvar-identity", "text/javascript; charset=utf-8"},
		{"/", "br", "br", "HTML-BR", "text/html; charset=utf-8"},
		{"/notes.txt", "br, gzip", "", "notes", "text/plain; charset=utf-8"}, // no variants: Vary all the same
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.acceptEncoding, func(t *testing.T) {
			resp, body := do(t, s.h, "GET", tt.path, map[string]string{"Accept-Encoding": tt.acceptEncoding})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tt.wantEncoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tt.wantEncoding)
			}
			if body != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := resp.Header.Values("Vary"); !slices.Contains(got, "Accept-Encoding") {
				t.Errorf("Vary = %q, want Accept-Encoding", got)
			}
			if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(tt.wantBody)); got != want {
				t.Errorf("Content-Length = %q, want %q", got, want)
			}
		})
	}

	t.Run("no Vary on incompressible types", func(t *testing.T) {
		resp, _ := do(t, s.h, "GET", "/logo.png", map[string]string{"Accept-Encoding": "br"})
		if got := resp.Header.Values("Vary"); len(got) != 0 {
			t.Errorf("Vary = %q, want none", got)
		}
	})
}

func TestETag(t *testing.T) {
	s := newSite(t)
	get := func(t *testing.T, ae, inm string) (*http.Response, string) {
		t.Helper()
		return do(t, s.h, "GET", "/app.wasm", map[string]string{"Accept-Encoding": ae, "If-None-Match": inm})
	}

	plain, _ := get(t, "", "")
	br, _ := get(t, "br", "")
	plainTag, brTag := plain.Header.Get("ETag"), br.Header.Get("ETag")
	if want := etagOf("WASM-IDENTITY-BYTES"); plainTag != want {
		t.Errorf("identity ETag = %q, want %q", plainTag, want)
	}
	if want := etagOf("WASM-BR"); brTag != want {
		t.Errorf("br ETag = %q, want %q (hash of the bytes sent)", brTag, want)
	}

	tests := []struct {
		name, ae, inm string
		status        int
	}{
		{"identity match", "", plainTag, http.StatusNotModified},
		{"br match", "br", brTag, http.StatusNotModified},
		{"list match", "", `"nope", ` + plainTag, http.StatusNotModified},
		{"star", "", "*", http.StatusNotModified},
		{"br tag for identity", "", brTag, http.StatusOK},
		{"identity tag for br", "br", plainTag, http.StatusOK},
		{"stale", "", `"0000"`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, tt.ae, tt.inm)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == http.StatusNotModified {
				if body != "" {
					t.Errorf("304 body = %q, want empty", body)
				}
				if got := resp.Header.Get("ETag"); got != tt.inm && tt.inm != "*" && !strings.Contains(tt.inm, got) {
					t.Errorf("304 ETag = %q, want the matched one", got)
				}
			}
		})
	}

	t.Run("cached by path, size and modtime", func(t *testing.T) {
		name := filepath.Join(s.root, "cache.js")
		writeFile(t, name, "aaaa")
		mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		etag := func() string {
			resp, _ := do(t, s.h, "GET", "/cache.js", nil)
			return resp.Header.Get("ETag")
		}
		if got := etag(); got != etagOf("aaaa") {
			t.Fatalf("ETag = %q, want %q", got, etagOf("aaaa"))
		}
		// Same size and modtime: the cached hash is reused (proof that it
		// is not recomputed per request).
		writeFile(t, name, "bbbb")
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if got := etag(); got != etagOf("aaaa") {
			t.Errorf("ETag = %q, want cached %q", got, etagOf("aaaa"))
		}
		// A new modtime invalidates it.
		if err := os.Chtimes(name, mtime.Add(time.Second), mtime.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := etag(); got != etagOf("bbbb") {
			t.Errorf("ETag = %q, want %q after modtime change", got, etagOf("bbbb"))
		}
		// So does a new size, even with an unchanged modtime.
		writeFile(t, name, "ccccc")
		if err := os.Chtimes(name, mtime.Add(time.Second), mtime.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := etag(); got != etagOf("ccccc") {
			t.Errorf("ETag = %q, want %q after size change", got, etagOf("ccccc"))
		}
	})
}

func TestHEAD(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		ae, encoding, content string
	}{
		{"", "", "WASM-IDENTITY-BYTES"},
		{"br", "br", "WASM-BR"},
	}
	for _, tt := range tests {
		t.Run("ae="+tt.ae, func(t *testing.T) {
			resp, body := do(t, s.h, "HEAD", "/app.wasm", map[string]string{"Accept-Encoding": tt.ae})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			if body != "" {
				t.Errorf("HEAD body = %q, want empty", body)
			}
			if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(tt.content)); got != want {
				t.Errorf("Content-Length = %q, want %q", got, want)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tt.encoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tt.encoding)
			}
			if got := resp.Header.Get("ETag"); got != etagOf(tt.content) {
				t.Errorf("ETag = %q, want %q", got, etagOf(tt.content))
			}
			if got := resp.Header.Get("Content-Type"); got != "application/wasm" {
				t.Errorf("Content-Type = %q, want application/wasm", got)
			}
		})
	}
}

func TestRange(t *testing.T) {
	s := newSite(t)
	resp, body := do(t, s.h, "GET", "/app.wasm", map[string]string{"Range": "bytes=0-3"})
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("status = %d, want 206", resp.StatusCode)
	}
	if body != "WASM" {
		t.Errorf("body = %q, want %q", body, "WASM")
	}
}

func TestTraversalAndDotfiles(t *testing.T) {
	s := newSite(t)
	srv := httptest.NewServer(s.h)
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	// Every target would reach a file holding the secret if the path were
	// joined naively onto the root (secret.txt and etc/passwd sit next to
	// the root, dotfiles inside it).
	targets := []string{
		"/../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/..%2fsecret.txt",
		"/a/../../secret.txt",
		"/a/..%2f..%2fsecret.txt",
		"/a/..%2f..%2fetc/passwd",
		"/a/%2e%2e/%2e%2e/etc/passwd",
		"/a/..%2F..%2Fetc%2Fpasswd",
		"//etc/passwd",
		"/%2fetc/passwd",
		"/" + filepath.ToSlash(s.base) + "/secret.txt",
		"/a/../index.html", // inside the root, but ".." is refused outright
		"/./index.html",
		"/.env",
		"/%2eenv",
		"/.git/config",
		"/a/.hidden",
		"/index.html/",
		"/missing",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			resp, body := rawGet(t, addr, target)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("status = %d, want 404", resp.StatusCode)
			}
			if strings.Contains(body, secret) {
				t.Errorf("body leaks the secret: %q", body)
			}
			if strings.Contains(body, s.base) || strings.Contains(body, "/") {
				t.Errorf("body mentions a path: %q", body)
			}
		})
	}
}

func TestSymlinks(t *testing.T) {
	s := newSite(t)
	links := map[string]string{
		"abs.txt":    filepath.Join(s.base, "secret.txt"),
		"rel.txt":    filepath.Join("..", "secret.txt"),
		"outdir":     filepath.Join(s.base, "outdir"),
		"reldir":     filepath.Join("..", "outdir"),
		"inside.txt": "notes.txt", // a link within the root is fine
		// A variant escaping the root must be skipped, not served.
		"leak.js.br": filepath.Join("..", "secret.txt"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(s.root, name)); err != nil {
			t.Skipf("symlinks unavailable: %v", err)
		}
	}
	writeFile(t, filepath.Join(s.root, "leak.js"), "leak-identity")

	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/abs.txt", 404, ""},
		{"/rel.txt", 404, ""},
		{"/outdir/secret.txt", 404, ""},
		{"/reldir/secret.txt", 404, ""},
		{"/outdir/", 404, ""},
		{"/inside.txt", 200, "notes"},
		{"/leak.js", 200, "leak-identity"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := do(t, s.h, "GET", tt.path, map[string]string{"Accept-Encoding": "br"})
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if strings.Contains(body, secret) || strings.Contains(body, s.base) {
				t.Errorf("body leaks: %q", body)
			}
			if tt.status == 200 && body != tt.body {
				t.Errorf("body = %q, want %q", body, tt.body)
			}
		})
	}
}

func TestDirectories(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		path     string
		status   int
		body     string // checked for 200
		location string // checked for 301
	}{
		{"/", 200, "<!doctype html><title>home</title>", ""},
		{"/sub/", 200, "<p>sub</p>", ""},
		{"/sub", 301, "", "/sub/"},
		{"/sub?x=1&y=2", 301, "", "/sub/?x=1&y=2"},
		{"/my%20dir", 301, "", "/my%20dir/"},
		{"/my%20dir/", 200, "<p>spaced</p>", ""},
		{"/empty/", 404, "", ""}, // no index.html, and no listing
		{"/empty", 404, "", ""},
		{"/a/", 404, "", ""},
		{"/weird/", 404, "", ""},
		{"/weird/index.html", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := do(t, s.h, "GET", tt.path, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			switch tt.status {
			case 200:
				if body != tt.body {
					t.Errorf("body = %q, want %q", body, tt.body)
				}
				if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
					t.Errorf("Content-Type = %q", got)
				}
			case 301:
				if got := resp.Header.Get("Location"); got != tt.location {
					t.Errorf("Location = %q, want %q", got, tt.location)
				}
			case 404:
				if strings.Contains(body, "other.js") || strings.Contains(body, "file.txt") {
					t.Errorf("404 body lists the directory: %q", body)
				}
			}
		})
	}
}

func TestMethods(t *testing.T) {
	s := newSite(t)
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "PROPFIND"} {
		t.Run(m, func(t *testing.T) {
			resp, _ := do(t, s.h, m, "/index.html", nil)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("status = %d, want 405", resp.StatusCode)
			}
			if got := resp.Header.Get("Allow"); got != "GET, HEAD, OPTIONS" {
				t.Errorf("Allow = %q, want %q", got, "GET, HEAD, OPTIONS")
			}
		})
	}

	preflights := []struct {
		name, requestMethod string
		wantCORS            bool
	}{
		{"GET", "GET", true},
		{"HEAD", "HEAD", true},
		{"POST refused", "POST", false},
		{"DELETE refused", "DELETE", false},
		{"not a preflight", "", false},
	}
	for _, tt := range preflights {
		t.Run("OPTIONS "+tt.name, func(t *testing.T) {
			hdr := map[string]string{"Origin": "https://elsewhere.example"}
			if tt.requestMethod != "" {
				hdr["Access-Control-Request-Method"] = tt.requestMethod
			}
			resp, body := do(t, s.h, "OPTIONS", "/app.wasm", hdr)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("status = %d, want 204", resp.StatusCode)
			}
			if body != "" {
				t.Errorf("body = %q, want empty", body)
			}
			if got := resp.Header.Get("Allow"); got != "GET, HEAD, OPTIONS" {
				t.Errorf("Allow = %q", got)
			}
			wantOrigin, wantMethods := "", ""
			if tt.wantCORS {
				wantOrigin, wantMethods = "*", "GET, HEAD"
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, wantOrigin)
			}
			if got := resp.Header.Get("Access-Control-Allow-Methods"); got != wantMethods {
				t.Errorf("Access-Control-Allow-Methods = %q, want %q", got, wantMethods)
			}
		})
	}
}

func TestBadRequest(t *testing.T) {
	s := newSite(t)
	if runtime.GOOS != "windows" {
		writeFile(t, filepath.Join(s.root, `a\b`), "backslash file") // a legal name on Unix
	}
	for _, target := range []string{"/a%00b", "/index.html%00.js", `/a\b`, "/a%5cb", "/a%5Cb", "/..%5c..%5csecret.txt"} {
		t.Run(target, func(t *testing.T) {
			resp, body := do(t, s.h, "GET", target, nil)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400", resp.StatusCode)
			}
			if strings.Contains(body, s.base) || strings.Contains(body, "backslash file") {
				t.Errorf("body leaks: %q", body)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	s := newSite(t)
	var buf bytes.Buffer
	h, err := New(s.root, WithAccessLog(&buf))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	do(t, h, "GET", "/app.wasm", nil)
	do(t, h, "GET", "/nope%0AFAKE%20200", nil) // a newline must not forge a second entry
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], `GET "/app.wasm" 200 19B`) {
		t.Errorf("line 1 = %q", lines[0])
	}
	if !strings.Contains(lines[1], `GET "/nope\nFAKE 200" 404`) {
		t.Errorf("line 2 = %q", lines[1])
	}
}

func TestNewRejectsNonDirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	writeFile(t, file, "x")
	for _, root := range []string{file, filepath.Join(dir, "missing")} {
		if h, err := New(root); err == nil {
			h.Close()
			t.Errorf("New(%q) succeeded, want error", root)
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	writeFile(t, file, "x")
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"-root", file}, "is not a directory"},
		{[]string{"-root", filepath.Join(dir, "missing")}, "missing"},
		{[]string{"-bogus"}, "flag provided but not defined"},
		{[]string{"-root", dir, "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stderr); code != 2 {
				t.Errorf("exit code = %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr = %q, want it to mention %q", stderr.String(), tt.msg)
			}
		})
	}
}

func TestHTTPServerLimits(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler())
	got := []any{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes}
	want := []any{5 * time.Second, 15 * time.Second, 30 * time.Second, 60 * time.Second, 64 << 10}
	if !slices.Equal(got, want) {
		t.Errorf("limits = %v, want %v", got, want)
	}
}

// TestServeGracefulShutdown runs the server as main does, on a listener
// the test owns, and checks that cancelling lets an in-flight request
// finish before serve returns nil.
func TestServeGracefulShutdown(t *testing.T) {
	s := newSite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer unblock() // never leave the handler stuck if the test fails early
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
			io.WriteString(w, "finished")
			return
		}
		s.h.ServeHTTP(w, r)
	})
	srv := newHTTPServer(handler)
	shutdownStarted := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(shutdownStarted) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, srv, ln) }()

	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Get(base + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "<!doctype html><title>home</title>" {
		t.Fatalf("GET /index.html = %d %q", resp.StatusCode, body)
	}

	type result struct {
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := client.Get(base + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{string(b), err}
	}()

	<-entered
	cancel()
	select {
	case <-shutdownStarted: // Shutdown (not Close) was called; listener is closed
	case err := <-done:
		t.Fatalf("serve returned %v without a graceful Shutdown", err)
	}
	select {
	case err := <-done:
		t.Fatalf("serve returned %v while a request was in flight", err)
	default:
	}
	unblock()

	if r := <-slow; r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request = %q, %v; want it to finish", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("serve = %v, want nil after graceful shutdown", err)
	}
	if conn, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		conn.Close()
		t.Error("still accepting connections after shutdown")
	}
}

func TestServeReportsServeError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Serve fails at once
	if err := serve(context.Background(), newHTTPServer(http.NotFoundHandler()), ln); err == nil {
		t.Error("serve on a closed listener returned nil")
	}
}

// TestRun drives run end to end: flags, the startup line, a request, the
// access log switch and shutdown through ctx (as SIGINT would).
func TestRun(t *testing.T) {
	for _, withLog := range []bool{false, true} {
		t.Run(fmt.Sprint("log=", withLog), func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "index.html"), "hello")
			args := []string{"-root", root, "-addr", "127.0.0.1:0"}
			if withLog {
				args = append(args, "-log")
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pr, pw := io.Pipe()
			done := make(chan int, 1)
			go func() {
				code := run(ctx, args, pw)
				pw.Close()
				done <- code
			}()

			out := bufio.NewReader(pr)
			line, err := out.ReadString('\n')
			if err != nil {
				t.Fatalf("reading startup line: %v", err)
			}
			var rest bytes.Buffer
			drained := make(chan struct{})
			go func() { io.Copy(&rest, out); close(drained) }()

			prefix := "serving " + root + " on http://"
			if !strings.HasPrefix(line, prefix) || !strings.HasSuffix(line, "/\n") {
				t.Fatalf("startup line = %q, want %q...", line, prefix)
			}
			addr := strings.TrimSuffix(strings.TrimPrefix(line, prefix), "/\n")

			client := &http.Client{Transport: &http.Transport{}}
			resp, err := client.Get("http://" + addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "hello" {
				t.Errorf("GET / = %d %q", resp.StatusCode, body)
			}

			cancel()
			if code := <-done; code != 0 {
				t.Errorf("exit code = %d, want 0", code)
			}
			<-drained
			logged := strings.Contains(rest.String(), `GET "/" 200`)
			if logged != withLog {
				t.Errorf("access log written = %v, want %v; stderr after startup: %q", logged, withLog, rest.String())
			}
			if !withLog && rest.Len() != 0 {
				t.Errorf("unexpected stderr output: %q", rest.String())
			}
		})
	}
}
