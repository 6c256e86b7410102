package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Header values are constants so tests can compare them verbatim.
const (
	// csp lets the playground run its own scripts and compile wasm
	// ('wasm-unsafe-eval') while forbidding inline script/style and plugins.
	csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
		"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
		"frame-ancestors 'self'"

	// HTML is revalidated on every load so a new deploy is picked up at once;
	// assets may be reused for 5 minutes, after which the ETag makes
	// revalidation cheap. Asset names are not content-hashed, hence no
	// "immutable".
	cacheHTML   = "no-cache"
	cacheAssets = "public, max-age=300"

	allowedMethods = "GET, HEAD, OPTIONS"
)

// fileType describes how a file extension is served.
type fileType struct {
	contentType string
	// compressible: a .br/.gz sibling may exist, so the response varies
	// on Accept-Encoding.
	compressible bool
	// document: can be navigated to and run script, so it gets the CSP.
	document bool
	// html: revalidated on each load and not exposed to other origins.
	html bool
}

// types is a fixed table rather than mime.TypeByExtension, whose answers
// depend on the host's /etc/mime.types and differ between machines.
var types = map[string]fileType{
	".html":  {contentType: "text/html; charset=utf-8", compressible: true, document: true, html: true},
	".htm":   {contentType: "text/html; charset=utf-8", compressible: true, document: true, html: true},
	".js":    {contentType: "text/javascript; charset=utf-8", compressible: true},
	".mjs":   {contentType: "text/javascript; charset=utf-8", compressible: true},
	".css":   {contentType: "text/css; charset=utf-8", compressible: true},
	".wasm":  {contentType: "application/wasm", compressible: true},
	".json":  {contentType: "application/json", compressible: true}, // always UTF-8 (RFC 8259)
	".map":   {contentType: "application/json", compressible: true},
	".md":    {contentType: "text/markdown; charset=utf-8", compressible: true},
	".txt":   {contentType: "text/plain; charset=utf-8", compressible: true},
	".klp":   {contentType: "text/plain; charset=utf-8", compressible: true},     // scenarios: text a reader may open
	".svg":   {contentType: "image/svg+xml", compressible: true, document: true}, // SVG can carry script when opened directly
	".png":   {contentType: "image/png"},
	".jpg":   {contentType: "image/jpeg"},
	".jpeg":  {contentType: "image/jpeg"},
	".gif":   {contentType: "image/gif"},
	".webp":  {contentType: "image/webp"},
	".ico":   {contentType: "image/x-icon"},
	".woff2": {contentType: "font/woff2"},
}

// fallbackType is used for unknown extensions (including direct requests
// for .br/.gz files): with nosniff, browsers will not execute or render it.
var fallbackType = fileType{contentType: "application/octet-stream"}

func typeOf(name string) fileType {
	if t, ok := types[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return fallbackType
}

// encodings lists the precompressed variants in order of preference.
var encodings = []struct{ name, ext string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// Option configures a Server.
type Option func(*Server)

// WithAccessLog writes one line per request to w.
func WithAccessLog(w io.Writer) Option {
	return func(s *Server) {
		if w != nil {
			s.log = log.New(w, "", log.LstdFlags)
		}
	}
}

// Server serves the files below one directory. It is safe for concurrent use.
type Server struct {
	root    *os.Root // all file access goes through it, so nothing outside can be reached
	absRoot string
	log     *log.Logger

	mu    sync.Mutex
	etags map[string]etagEntry // keyed by root-relative name; bounded by the number of files
}

type etagEntry struct {
	size    int64
	modTime time.Time
	etag    string
}

// New returns a Server for the directory root.
func New(root string, opts ...Option) (*Server, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("root %s is not a directory", abs)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	s := &Server{root: r, absRoot: abs, etags: make(map[string]etagEntry)}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Root returns the absolute path of the served directory.
func (s *Server) Root() string { return s.absRoot }

// Close releases the root directory handle.
func (s *Server) Close() error { return s.root.Close() }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.log != nil {
		start := time.Now()
		lw := &logWriter{ResponseWriter: w}
		w = lw
		defer func() {
			// %q keeps request-controlled bytes from forging log lines.
			s.log.Printf("%s %q %d %dB %s %s", r.Method, r.URL.Path, lw.statusCode(), lw.n,
				time.Since(start).Round(time.Microsecond), r.RemoteAddr)
		}()
	}

	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")

	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		h.Set("Allow", allowedMethods)
		s.error(w, http.StatusMethodNotAllowed)
		return
	}

	if r.Method == http.MethodOptions && r.RequestURI == "*" {
		// "OPTIONS *" asks about the server, not a resource (RFC 9110
		// §9.3.7); newHTTPServer passes it here so it gets our headers.
		h.Set("Allow", allowedMethods)
		w.WriteHeader(http.StatusNoContent)
		return
	}

	name, dirRequest, code := cleanPath(r.URL.Path)
	if code != 0 {
		s.error(w, code)
		return
	}

	if r.Method == http.MethodOptions {
		preflight(w, r)
		return
	}
	s.serveFile(w, r, name, dirRequest)
}

// cleanPath maps a decoded URL path to a root-relative name. It is
// deliberately strict instead of cleaning: any "." or ".." segment, dotfile
// or empty segment is a 404, so no spelling of a path (including %2e%2e and
// %2f, which are already decoded here) can name something unexpected.
// os.Root is the second line of defence, against symlinks.
func cleanPath(p string) (name string, dirRequest bool, code int) {
	if strings.ContainsAny(p, "\x00\\") {
		return "", false, http.StatusBadRequest
	}
	if p == "" {
		p = "/"
	}
	if p[0] != '/' {
		return "", false, http.StatusBadRequest
	}
	rel := p[1:]
	if rel == "" {
		return ".", true, 0
	}
	dirRequest = strings.HasSuffix(rel, "/")
	rel = strings.TrimSuffix(rel, "/")
	for seg := range strings.SplitSeq(rel, "/") {
		if seg == "" || seg[0] == '.' {
			return "", false, http.StatusNotFound
		}
	}
	return rel, dirRequest, 0
}

// preflight answers CORS preflights for GET/HEAD only; for any other
// requested method the Access-Control-* headers are omitted, which makes
// the browser refuse the actual request.
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Allow", allowedMethods)
	switch r.Header.Get("Access-Control-Request-Method") {
	case http.MethodGet, http.MethodHead:
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD")
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, name string, dirRequest bool) {
	fi, err := s.root.Stat(name)
	if err != nil {
		s.notFound(w, err)
		return
	}
	if fi.IsDir() {
		// Look for the index first, so a directory without one is a plain
		// 404 rather than a redirect to a 404.
		index := path.Join(name, "index.html")
		if fi, err = s.root.Stat(index); err != nil {
			s.notFound(w, err)
			return
		}
		if !dirRequest {
			s.redirectToDir(w, r, name)
			return
		}
		name = index
	} else if dirRequest {
		// "/file.js/" names a directory that does not exist.
		s.notFound(w, nil)
		return
	}
	// Stat before Open: opening a FIFO or device could block or misbehave.
	if !fi.Mode().IsRegular() {
		s.notFound(w, nil)
		return
	}

	t := typeOf(name) // of the original name: a variant keeps its type

	encoding := ""
	if t.compressible {
		accepted := acceptedEncodings(r.Header.Get("Accept-Encoding"))
		for _, e := range encodings {
			if !accepted[e.name] {
				continue
			}
			vi, err := s.root.Stat(name + e.ext)
			if err != nil || !vi.Mode().IsRegular() {
				continue // missing, or e.g. a symlink out of the root
			}
			name, fi, encoding = name+e.ext, vi, e.name
			break
		}
	}

	f, err := s.root.Open(name)
	if err != nil {
		s.notFound(w, err)
		return
	}
	defer f.Close()

	etag, err := s.etag(name, fi, f)
	if err != nil {
		s.internalError(w, err)
		return
	}

	// Headers describing the file are set only now that it is known to be
	// servable, so no error response can carry them.
	h := w.Header()
	h.Set("Content-Type", t.contentType) // set explicitly so ServeContent never sniffs
	h.Set("ETag", etag)
	if t.html {
		h.Set("Cache-Control", cacheHTML)
	} else {
		h.Set("Cache-Control", cacheAssets)
		// The embeddable widget loads its module script, wasm and assets
		// from other origins; these files are public, so allow that.
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	if t.document {
		h.Set("Content-Security-Policy", csp)
	}
	if t.compressible {
		// Set even when serving identity: caches must not hand the
		// identity response to a client that could take br, or vice versa.
		h.Add("Vary", "Accept-Encoding")
	}
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
		// ServeContent omits Content-Length when Content-Encoding is set
		// (it assumes on-the-fly compression); ours is precompressed, so
		// the length is known and lets clients show progress.
		w = &lengthWriter{ResponseWriter: w, size: fi.Size()}
	}
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// acceptedEncodings reports which of our encodings the Accept-Encoding
// header allows. Preference among them is ours (br first): clients list
// what they can decode, and br is smaller. An explicit q=0 refuses a coding
// even if "*" would allow it. "identity;q=0" is not honoured: with no
// acceptable variant the plain file is sent rather than a 406.
func acceptedEncodings(header string) map[string]bool {
	explicit := map[string]bool{}
	accepted := map[string]bool{}
	wildcard := false
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding == "x-gzip" { // RFC 9110 §8.4.1.3: equivalent to gzip
			coding = "gzip"
		}
		if coding == "" {
			continue
		}
		ok := qualityPositive(params)
		if coding == "*" {
			wildcard = ok
			continue
		}
		explicit[coding] = true
		accepted[coding] = ok
	}
	for _, e := range encodings {
		if !explicit[e.name] {
			accepted[e.name] = wildcard
		}
	}
	return accepted
}

// qualityPositive reports whether the parameters of one Accept-Encoding
// element leave it acceptable: q absent or > 0. A malformed q counts as 0,
// so garbage never turns into a compressed response.
func qualityPositive(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return err == nil && q > 0 && q <= 1
	}
	return true
}

// etag returns a strong ETag for the bytes of f, which is name in the root.
// Hashing is done once per (name, size, modtime); a change to any of them
// recomputes it.
func (s *Server) etag(name string, fi fs.FileInfo, f *os.File) (string, error) {
	s.mu.Lock()
	e, ok := s.etags[name]
	s.mu.Unlock()
	if ok && e.size == fi.Size() && e.modTime.Equal(fi.ModTime()) {
		return e.etag, nil
	}

	hash := sha256.New()
	if _, err := io.Copy(hash, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	// 128 bits are plenty to tell versions of one file apart.
	etag := `"` + hex.EncodeToString(hash.Sum(nil)[:16]) + `"`

	// Only cache if the file did not change while it was being hashed;
	// otherwise the next request tries again.
	if after, err := f.Stat(); err == nil && after.Size() == fi.Size() && after.ModTime().Equal(fi.ModTime()) {
		s.mu.Lock()
		s.etags[name] = etagEntry{size: fi.Size(), modTime: fi.ModTime(), etag: etag}
		s.mu.Unlock()
	}
	return etag, nil
}

// redirectToDir sends "/dir" to "/dir/" so relative links in its
// index.html resolve inside the directory. The target is rebuilt from the
// validated name, so it is always a local absolute path (never "//host").
func (s *Server) redirectToDir(w http.ResponseWriter, r *http.Request, name string) {
	segs := strings.Split(name, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	target := "/" + strings.Join(segs, "/") + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusMovedPermanently)
}

func (s *Server) notFound(w http.ResponseWriter, err error) {
	if err != nil && !errors.Is(err, fs.ErrNotExist) && s.log != nil {
		// Escapes from the root and permission problems end up here;
		// worth logging, never worth telling the client.
		// The error carries the request's path: %q keeps a newline or
		// escape in it from forging a log line.
		s.log.Printf("not found: %q", err.Error())
	}
	s.error(w, http.StatusNotFound)
}

func (s *Server) internalError(w http.ResponseWriter, err error) {
	if s.log != nil {
		s.log.Printf("error: %q", err.Error())
	}
	s.error(w, http.StatusInternalServerError)
}

// error writes a fixed body: never a path or an underlying error message.
func (s *Server) error(w http.ResponseWriter, code int) {
	// Someone may navigate to an error page; keep it under the same policy.
	w.Header().Set("Content-Security-Policy", csp)
	http.Error(w, strconv.Itoa(code)+" "+strings.ToLower(http.StatusText(code)), code)
}

// lengthWriter adds Content-Length to a full (200) response of known size.
type lengthWriter struct {
	http.ResponseWriter
	size int64
}

func (w *lengthWriter) WriteHeader(code int) {
	if code == http.StatusOK && w.Header().Get("Content-Length") == "" {
		w.Header().Set("Content-Length", strconv.FormatInt(w.size, 10))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *lengthWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logWriter records the status and body size for the access log.
type logWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *logWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *logWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
