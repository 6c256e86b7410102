package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// The function tracer, as much of it as test-ftrace.sh uses:
// /sys/kernel/tracing/{current_tracer,set_ftrace_filter,tracing_on,trace}.
// A traced function is recorded when a task calls it: the original's
// fentry fires whether or not a livepatch redirects the call, and a
// replacement function, itself traceable, fires when it runs.

type tracerState struct {
	function bool     // current_tracer is "function" (else "nop")
	off      bool     // tracing_on is 0 (the kernel boots with 1)
	filter   []string // set_ftrace_filter; empty: every function
	buf      []string // the trace ring buffer, copied when trimmed
	written  int      // entries written, overwritten ones included
}

const tracingDir = "/sys/kernel/tracing"

// tracerFiles are the files tracerFile serves, in either directory.
var tracerFiles = []string{"current_tracer", "set_ftrace_filter", "trace", "tracing_on"}

// traceEntries bounds the trace buffer (the kernel's is buffer_size_kb per
// CPU; the simulator keeps this many entries in all).
const traceEntries = 4096

// tracerFile serves the tracer's files under /sys/kernel/tracing and
// /sys/kernel/debug/tracing; nil for any other path.
func (s *Sim) tracerFile(p string) *node {
	name, ok := strings.CutPrefix(p, tracingDir+"/")
	if !ok {
		name, ok = strings.CutPrefix(p, "/sys/kernel/debug/tracing/")
	}
	if !ok {
		return nil
	}
	tr := &s.tracer
	switch name {
	case "current_tracer":
		return &node{mode: "-rw-r-----", read: func() string {
			if tr.function {
				return "function\n"
			}
			return "nop\n"
		}, write: func(d string) error {
			switch strings.TrimSpace(d) {
			case "function":
				tr.function = true
			case "nop":
				tr.function = false
			default:
				return EINVAL
			}
			return nil
		}}
	case "tracing_on":
		return &node{mode: "-rw-r-----", read: func() string { return intLine(b2i(!tr.off)) }, write: func(d string) error {
			v, err := strconv.Atoi(strings.TrimSpace(d))
			if err != nil {
				return EINVAL
			}
			tr.off = v == 0
			return nil
		}}
	case "set_ftrace_filter":
		return &node{mode: "-rw-r-----", read: func() string {
			if len(tr.filter) == 0 {
				return "#### all functions enabled ####\n"
			}
			return strings.Join(tr.filter, "\n") + "\n"
		}, write: s.setFtraceFilter}
	case "trace":
		return &node{mode: "-rw-r-----", read: s.traceRead, write: func(string) error {
			tr.buf, tr.written = nil, 0 // open with O_TRUNC clears the buffer
			return nil
		}}
	}
	return nil
}

// setFtraceFilter replaces the filter (the shell's '>' truncates); every
// word must match a function, as ftrace_match_records requires.
func (s *Sim) setFtraceFilter(d string) error {
	var f []string
	for _, w := range strings.Fields(d) {
		found := false
		for i := range s.code {
			if !s.code[i].Dead && wildcard(w, s.code[i].Name) {
				found = true
				if !contains(f, s.code[i].Name) {
					f = append(f, s.code[i].Name)
				}
			}
		}
		if !found {
			return EINVAL
		}
	}
	s.tracer.filter = f
	return nil
}

func contains(l []string, x string) bool {
	for _, y := range l {
		if y == x {
			return true
		}
	}
	return false
}

// traceCall records the function tracer's entries for t calling orig and
// running run (the same function unless a livepatch redirected it).
func (s *Sim) traceCall(t *Task, orig, run CodeID) {
	tr := &s.tracer
	if !tr.function || tr.off || s.ftraceOff {
		return
	}
	parent := "0"
	if n := len(t.Stack); n >= 2 {
		parent = s.code[t.Stack[n-2].Code].Name
	}
	for _, id := range []CodeID{orig, run} {
		name := s.code[id].Name
		if len(tr.filter) > 0 && !contains(tr.filter, name) {
			continue
		}
		ns := s.Now()
		if len(tr.buf) >= 2*traceEntries {
			// The ring buffer overwrites its oldest entries; trimmed in
			// halves so that a call costs O(1) amortised.
			tr.buf = append([]string(nil), tr.buf[len(tr.buf)-traceEntries:]...)
		}
		tr.written++
		tr.buf = append(tr.buf, fmt.Sprintf("%16s-%-7d [%03d] ..... %5d.%06d: %s <-%s", t.Comm, t.PID, max(t.CPU, 0), ns/1e9, (ns%1e9)/1e3, name, parent))
		// The replacement is entered by a jump from the original's
		// fentry: its return address is still the caller's.
		if run == orig {
			break
		}
	}
}

func (s *Sim) traceRead() string {
	var b strings.Builder
	b.WriteString("# tracer: ")
	if s.tracer.function {
		b.WriteString("function\n")
	} else {
		b.WriteString("nop\n")
	}
	buf := s.tracer.buf
	if len(buf) > traceEntries {
		buf = buf[len(buf)-traceEntries:]
	}
	fmt.Fprintf(&b, "#\n# entries-in-buffer/entries-written: %d/%d   #P:%d\n#\n", len(buf), s.tracer.written, len(s.cpus))
	b.WriteString("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n#              | |         |   |||||     |         |\n")
	for _, l := range buf {
		b.WriteString(l + "\n")
	}
	return b.String()
}
