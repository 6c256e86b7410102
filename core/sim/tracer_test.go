package sim

import (
	"fmt"
	"strings"
	"testing"
)

// The function tracer records the original's fentry whether or not a
// livepatch redirects the call, and the replacement when it runs.
func TestFunctionTracer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		filter  string
		patch   bool
		off     bool
		want    []string
		notWant []string
	}{
		{name: "unpatched", filter: "cmdline_proc_show", want: []string{": cmdline_proc_show <-seq_read"}},
		{name: "patched, original traced", filter: "cmdline_proc_show", patch: true,
			want: []string{": cmdline_proc_show <-seq_read"}, notWant: []string{"lp_cmdline_proc_show"}},
		{name: "patched, replacement traced", filter: "lp_cmdline_proc_show", patch: true,
			want: []string{": lp_cmdline_proc_show <-seq_read"}, notWant: []string{": cmdline_proc_show"}},
		{name: "glob", filter: "*cmdline*", patch: true,
			want: []string{": cmdline_proc_show <-seq_read", ": lp_cmdline_proc_show <-seq_read"}},
		{name: "tracing_on 0", filter: "cmdline_proc_show", off: true, notWant: []string{"cmdline_proc_show <-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, "6.16")
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			if tc.patch {
				must(t, s.Insmod("lp"))
				settle(t, s)
			}
			must(t, s.WriteFile(tracingDir+"/current_tracer", "function\n"))
			must(t, s.WriteFile(tracingDir+"/set_ftrace_filter", tc.filter+"\n"))
			if tc.off {
				must(t, s.WriteFile(tracingDir+"/tracing_on", "0\n"))
			}
			u := spawn(t, s, TaskSpec{PID: 900, Comm: "cat", State: Runnable, Stack: frames("do_syscall_64")})
			must(t, s.Call(u, "seq_read", 0))
			must(t, s.Call(u, "cmdline_proc_show", 0))
			tr := read(t, s, tracingDir+"/trace")
			if !strings.HasPrefix(tr, "# tracer: function\n") {
				t.Errorf("header: %q", tr)
			}
			for _, w := range tc.want {
				if !strings.Contains(tr, w) {
					t.Errorf("trace lacks %q:\n%s", w, tr)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(tr, w) {
					t.Errorf("trace has %q:\n%s", w, tr)
				}
			}
			must(t, s.WriteFile(tracingDir+"/trace", "\n"))
			if tr := read(t, s, tracingDir+"/trace"); strings.Contains(tr, "<-") {
				t.Errorf("writing trace must clear it:\n%s", tr)
			}
		})
	}
	s := newSim(t, "6.16")
	wantErrno(t, "unknown function", s.WriteFile(tracingDir+"/set_ftrace_filter", "nosuch\n"), EINVAL)
	wantErrno(t, "unknown tracer", s.WriteFile(tracingDir+"/current_tracer", "blk\n"), EINVAL)
	if f := read(t, s, "/sys/kernel/debug/tracing/set_ftrace_filter"); f != "#### all functions enabled ####\n" {
		t.Errorf("empty filter reads %q", f)
	}
}

// The trace buffer keeps the newest traceEntries entries.
func TestTraceBufferBounded(t *testing.T) {
	s := newSim(t, "6.16")
	must(t, s.WriteFile(tracingDir+"/current_tracer", "function\n"))
	must(t, s.WriteFile(tracingDir+"/set_ftrace_filter", "cmdline_proc_show\n"))
	u := spawn(t, s, TaskSpec{PID: 900, Comm: "cat", State: Runnable, Stack: frames("do_syscall_64")})
	n := 3*traceEntries + 5
	for i := 0; i < n; i++ {
		must(t, s.Call(u, "cmdline_proc_show", 0))
		must(t, s.Return(u))
	}
	tr := read(t, s, tracingDir+"/trace")
	if got := strings.Count(tr, "cmdline_proc_show <-"); got != traceEntries {
		t.Errorf("trace holds %d entries, want %d", got, traceEntries)
	}
	if want := fmt.Sprintf("entries-in-buffer/entries-written: %d/%d", traceEntries, n); !strings.Contains(tr, want) {
		t.Errorf("header lacks %q", want)
	}
}
