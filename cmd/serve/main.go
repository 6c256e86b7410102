// Command serve is a small, safe-by-default static file server for the
// built playground site.
//
// Usage:
//
//	go run ./cmd/serve [-root dist] [-addr 127.0.0.1:8080] [-log]
//
// It serves precompressed .br/.gz siblings when the client accepts them,
// sets strong content-hash ETags, CSP and CORS headers for the embeddable
// widget, and refuses anything outside the root, dotfiles and directory
// listings. See server.go for the details.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// shutdownTimeout bounds how long in-flight requests may take to finish
// after SIGINT/SIGTERM before connections are closed forcibly.
const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process globals, so tests can drive it. It
// returns the exit status: 2 for usage or configuration errors, 1 if
// serving fails.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	root := fset.String("root", "dist", "directory to serve")
	addr := fset.String("addr", "127.0.0.1:8080", "listen address (loopback by default; use :8080 to expose)")
	accessLog := fset.Bool("log", false, "write one line per request to stderr")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "serve: unexpected arguments: %q\n", fset.Args())
		return 2
	}

	var opts []Option
	if *accessLog {
		opts = append(opts, WithAccessLog(stderr))
	}
	h, err := New(*root, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 2
	}
	defer h.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	// Print the listener's address, not the flag, so ":0" shows the real port.
	fmt.Fprintf(stderr, "serving %s on http://%s/\n", h.Root(), ln.Addr())

	if err := serve(ctx, newHTTPServer(h), ln); err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	return 0
}

// newHTTPServer wraps h with timeouts so that slow or idle clients cannot
// hold connections open indefinitely.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second, // whole response, including large .wasm files
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		// "OPTIONS *" goes to the handler, which sets nosniff on it like
		// on every other response.
		DisableGeneralOptionsHandler: true,
	}
}

// serve runs srv on ln until ctx is done, then shuts down gracefully:
// new connections are refused and in-flight requests get shutdownTimeout
// to finish. It returns nil after a clean shutdown.
func serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(nosniffListener{ln}) }()

	select {
	case err := <-errc:
		return err // Serve failed before any shutdown was asked for
	case <-ctx.Done():
	}

	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close() // deadline passed: drop the stragglers
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
