// Command klp runs scenarios of the klp playground on the command line.
//
//	klp run FILE      print what a terminal on that box would show, with the
//	                  kernel log interleaved in dmesg format
//	klp run -dmesg FILE   print the kernel log alone, as dmesg shows it at the end
//	klp check FILE    run the expectations; exit 1 if one fails
//	klp explore FILE  run every interleaving of the scenario's explore
//	                  region; exit 1 if a property breaks (explore.go)
//
// FILE may be - for standard input. Exit status 2 means a scenario error.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: klp run [-dmesg] [-level LEVEL] FILE | klp check FILE | klp explore [-steps N] [-seconds S] [-states N] [-memory MB] [-no-reduce] [-json] FILE   (FILE may be -)")
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		usage(stderr)
		return 2
	}
	cmd := args[0]
	if cmd == "explore" {
		return runExplore(args[1:], stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("klp "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dmesgOnly := fs.Bool("dmesg", false, "print the kernel log alone")
	level := fs.String("level", "debug", "show kernel log lines up to this level (emerg..debug)")
	if cmd != "run" && cmd != "check" {
		usage(stderr)
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 {
		usage(stderr)
		return 2
	}
	maxLevel, ok := sim.ParseLevel(*level)
	if !ok {
		fmt.Fprintf(stderr, "klp: unknown log level %q\n", *level)
		return 2
	}
	name, src, err := readScenario(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "klp: %v\n", err)
		return 2
	}
	sess, out, err := scenario.NewSession(name, string(src))
	for _, o := range out {
		switch {
		case cmd == "check":
			if o.Kind == "fail" {
				fmt.Fprintln(stdout, termSafe(o.Text))
			}
		case *dmesgOnly:
			// What dmesg shows at the end: dmesg -C and /dev/kmsg
			// writes count, as on a box.
		case o.Kind == "log":
			if l, _ := sim.ParseLevel(o.Level); l <= maxLevel {
				fmt.Fprintln(stdout, termSafe(o.Text))
			}
		case o.Kind == "stderr":
			fmt.Fprintln(stdout, termSafe(o.Text))
		default:
			fmt.Fprintln(stdout, termSafe(o.Text))
		}
	}
	if *dmesgOnly && cmd == "run" && sess != nil {
		for _, l := range sess.Sim().Dmesg() {
			if l.Level <= maxLevel {
				fmt.Fprintln(stdout, l.Dmesg())
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "klp: %s\n", strings.ReplaceAll(termSafe(err.Error()), "\n", "\nklp: "))
		return 2
	}
	if cmd == "check" {
		n := 0
		for _, o := range out {
			if o.Kind == "pass" || o.Kind == "fail" {
				n++
			}
		}
		if sess.Failures() > 0 {
			fmt.Fprintf(stdout, "%d of %d expectations failed\n", sess.Failures(), n)
			return 1
		}
		fmt.Fprintf(stdout, "all %d expectations hold\n", n)
	}
	return 0
}

// termSafe escapes what a terminal would act on rather than show: control
// characters other than newline and tab (an escape sequence in a scenario
// could move the cursor, retitle the window or hide lines), and bytes that
// are not UTF-8. Scenario text reaches the output through echoed commands,
// file contents and error messages.
func termSafe(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r != '\n' && r != '\t' && unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r == '\n' || r == '\t' || !unicode.IsControl(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\r', '\u0085'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// readScenario reads the scenario FILE names, or standard input for "-".
func readScenario(name string, stdin io.Reader) (string, []byte, error) {
	if name == "-" {
		src, err := io.ReadAll(stdin)
		return "stdin", src, err
	}
	src, err := os.ReadFile(name)
	return name, src, err
}
