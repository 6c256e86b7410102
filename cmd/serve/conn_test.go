package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNetHTTPResponsesNosniff sends, over a real connection to serve,
// requests that net/http answers itself, and requires nosniff on each.
func TestNetHTTPResponsesNosniff(t *testing.T) {
	s := newSite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, newHTTPServer(s.h), ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	huge := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 200<<10) + "\r\n\r\n"
	tests := []struct {
		name, request string
		status        int
	}{
		{"malformed", "GARBAGE\r\n\r\n", 400},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"headers too large", huge, 431},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: bogus\r\n\r\n", 501},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 204},
		{"handler 404", "GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			go io.WriteString(conn, tt.request) // the server may answer before reading it all
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff (headers %v)", got, resp.Header)
			}
			if tt.status == 204 && resp.Header.Get("Allow") != allowedMethods {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}
}

// addNosniff must leave every write that is not net/http's own error
// response alone, byte for byte.
func TestAddNosniffOnlyTouchesNetHTTPErrors(t *testing.T) {
	keep := []string{
		"",
		"HTTP/1.1 200 OK\r\nX-Content-Type-Options: nosniff\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 400 Bad Request", // no header block
		"body bytes HTTP/1.1 400 Bad Request" + netHTTPErrorHeaders,
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n",
	}
	for _, b := range keep {
		if out, ok := addNosniff([]byte(b)); ok {
			t.Errorf("addNosniff(%q) rewrote it to %q", b, out)
		}
	}
	in := "HTTP/1.1 400 Bad Request" + netHTTPErrorHeaders + "400 Bad Request"
	out, ok := addNosniff([]byte(in))
	want := "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n400 Bad Request"
	if !ok || string(out) != want {
		t.Errorf("addNosniff = %q, %v; want %q", out, ok, want)
	}
}

// A path reaching the "not found" log line through an error (a symlink
// out of the root) must not forge a second line.
func TestNotFoundLogEscapesPath(t *testing.T) {
	s := newSite(t)
	name := "evil\nFAKE 200 GET \"/x\""
	if err := os.Symlink(filepath.Join(s.base, "secret.txt"), filepath.Join(s.root, name)); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	var buf bytes.Buffer
	h, err := New(s.root, WithAccessLog(&buf))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	resp, _ := do(t, h, "GET", "/evil%0AFAKE%20200%20GET%20%22%2Fx%22", nil)
	if resp.StatusCode != 404 {
		t.Fatalf("status = %d, want 404", resp.StatusCode)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2 (not found, access):\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], `not found: "`) || !strings.Contains(lines[0], `evil\nFAKE`) {
		t.Errorf("not-found line = %q", lines[0])
	}
}
