package main

import (
	"bytes"
	"net"
)

// net/http answers some requests before any handler sees them (400 for a
// malformed request, 431 for oversized headers, 501 for an unknown
// transfer coding). It writes those responses straight to the connection
// with a fixed header block, so they cannot carry our headers; the
// connection wrapper below adds X-Content-Type-Options to exactly that
// block.

// netHTTPErrorHeaders is the header block net/http's conn.serve writes
// after the status line of those responses (errorHeaders in
// net/http/server.go).
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

var nosniffErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n")

// nosniffListener wraps every accepted connection in a nosniffConn.
type nosniffListener struct{ net.Listener }

func (l nosniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &nosniffConn{Conn: c}, nil
}

// nosniffConn rewrites a net/http error response, which is written in one
// call and is the first thing on a connection or follows complete
// responses. Handler responses always carry nosniff already (ServeHTTP
// sets it first), so only a write that starts with a status line, has
// net/http's error header block right after it and no nosniff is touched.
type nosniffConn struct{ net.Conn }

func (c *nosniffConn) Write(b []byte) (int, error) {
	if fixed, ok := addNosniff(b); ok {
		if _, err := c.Conn.Write(fixed); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// addNosniff returns b with nosniff added to net/http's error header
// block, or false when b is not such a response.
func addNosniff(b []byte) ([]byte, bool) {
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
		return nil, false
	}
	eol := bytes.Index(b, []byte("\r\n"))
	if eol < 0 || !bytes.HasPrefix(b[eol:], []byte(netHTTPErrorHeaders)) {
		return nil, false
	}
	out := make([]byte, 0, len(b)+len(nosniffErrorHeaders))
	out = append(out, b[:eol]...)
	out = append(out, nosniffErrorHeaders...)
	return append(out, b[eol+len(netHTTPErrorHeaders):]...), true
}
