package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzCleanPath: whatever the decoded path, an accepted name stays inside
// the root: relative, no empty, "." or ".." segment, no dotfile, no
// backslash or NUL.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/index.html", "/a/b/", "/../x", "/a/./b", "/.git/config", "//x", `/a\b`, "/a\x00b", "x", "", "/a//b", "/%2e%2e/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		name, _, code := cleanPath(p)
		if code != 0 {
			if code != http.StatusBadRequest && code != http.StatusNotFound {
				t.Fatalf("cleanPath(%q) code %d", p, code)
			}
			return
		}
		if name == "." {
			if strings.Trim(p, "/") != "" {
				t.Fatalf("cleanPath(%q) = the root", p)
			}
			return
		}
		if strings.ContainsAny(name, "\x00\\") || strings.HasPrefix(name, "/") {
			t.Fatalf("cleanPath(%q) = %q", p, name)
		}
		for _, seg := range strings.Split(name, "/") {
			if seg == "" || seg[0] == '.' {
				t.Fatalf("cleanPath(%q) = %q, with segment %q", p, name, seg)
			}
		}
	})
}

// FuzzServeHTTP sends fuzzed requests through ServeHTTP on a site with a
// secret just outside its root: no response leaks it or the root's path,
// every response carries nosniff, only the expected statuses occur, and a
// compressed body is only sent to a client that accepts it.
func FuzzServeHTTP(f *testing.F) {
	for _, s := range []struct{ method, target, ae string }{
		{"GET", "/", "br"}, {"GET", "/app.wasm", "gzip, br;q=0"}, {"HEAD", "/index.html", "*"},
		{"OPTIONS", "/app.wasm", ""}, {"GET", "/../secret.txt", ""}, {"GET", "/dir", ""},
		{"POST", "/", ""}, {"GET", "/%2e%2e/secret.txt", "x-gzip"}, {"GET", "/notes.txt?x=1", "br;q=0.5"},
	} {
		f.Add(s.method, s.target, s.ae)
	}
	s := newSite(f)
	f.Fuzz(func(t *testing.T, method, target, ae string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(method, "http://test"+target, nil)
		if err != nil {
			return // not a request net/http would hand to a handler
		}
		req.RequestURI = target
		req.Header.Set("Accept-Encoding", ae)
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		resp := rec.Result()
		body := rec.Body.String()
		if strings.Contains(body, secret) || strings.Contains(body, s.base) {
			t.Fatalf("%s %q leaks: %q", method, target, body)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s %q: no nosniff", method, target)
		}
		switch resp.StatusCode {
		case 200, 204, 206, 301, 304, 400, 404, 405, 412, 416:
		default:
			t.Fatalf("%s %q: status %d", method, target, resp.StatusCode)
		}
		if enc := resp.Header.Get("Content-Encoding"); enc != "" && !acceptedEncodings(ae)[enc] {
			t.Fatalf("%s %q: %s body for Accept-Encoding %q", method, target, enc, ae)
		}
	})
}
