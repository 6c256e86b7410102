package sim

import (
	"path"
	"slices"
	"strings"
	"testing"
)

// walk lists every path under dir that ls reaches, directories with a
// trailing slash.
func walk(t *testing.T, s *Sim, dir string, depth int, out map[string]string) {
	t.Helper()
	es, err := s.ReadDir(dir)
	if err != nil {
		t.Fatalf("ls %s: %v", dir, err)
	}
	for _, e := range es {
		p := path.Join(dir, e.Name)
		if e.Dir {
			out[p+"/"] = e.Mode
			if depth > 0 {
				walk(t, s, p, depth-1, out)
			}
			continue
		}
		out[p] = e.Mode
	}
}

// TestEveryFileListed: what cat reads, ls lists — the interface files
// served outside the sysfs tree (tracefs, debugfs, /dev/kmsg,
// /proc/dynamic_debug) too, with their directories and modes.
func TestEveryFileListed(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	must(t, s.AddProducedFile(ProducedFile{Path: "/proc/cmdline", Func: "cmdline_proc_show", Text: "BOOT_IMAGE=/vmlinuz"}))
	must(t, s.Insmod("lp"))
	settle(t, s)
	seen := map[string]string{}
	walk(t, s, "/", 6, seen)
	for _, f := range s.ifacePaths() {
		mode, ok := seen[f]
		if !ok {
			t.Errorf("%s is served but no directory lists it", f)
			continue
		}
		_, dir, want := s.Stat(f)
		if dir || mode != want {
			t.Errorf("ls -l lists %s as %q, stat says %q (dir %v)", f, mode, want, dir)
		}
		if _, err := s.ReadFile(f); err != nil && ErrnoOf(err) != EACCES {
			t.Errorf("cat %s: %v", f, err)
		}
	}
	for _, tc := range []struct{ dir, want, mode string }{
		{"/", "dev proc sys", ""},
		{"/sys/kernel", "debug livepatch tracing", ""},
		{"/sys/kernel/tracing", "current_tracer set_ftrace_filter trace tracing_on", "drwx------"},
		{"/sys/kernel/debug", "dynamic_debug kprobes tracing", "drwx------"},
		{"/sys/kernel/debug/tracing", "current_tracer set_ftrace_filter trace tracing_on", "drwx------"},
		{"/proc/dynamic_debug", "control", "dr-xr-xr-x"},
		{"/proc", "cmdline dynamic_debug sys", ""},
		{"/dev", "kmsg", "drwxr-xr-x"},
	} {
		es, err := s.ReadDir(tc.dir)
		if err != nil {
			t.Errorf("ls %s: %v", tc.dir, err)
			continue
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name)
		}
		slices.Sort(names)
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("ls %s = %q, want %q", tc.dir, got, tc.want)
		}
		if m := seen[tc.dir+"/"]; tc.mode != "" && m != tc.mode {
			t.Errorf("ls -l shows %s as %q, want %q", tc.dir, m, tc.mode)
		}
	}
	// A directory of them is still no file, and nothing new can be made.
	for _, tc := range []struct {
		p   string
		err Errno
	}{{"/sys/kernel/tracing", EISDIR}, {"/sys/kernel/tracing/new", EACCES}, {"/sys/kernel/debug", EISDIR}} {
		if err := s.WriteFile(tc.p, "1\n"); ErrnoOf(err) != tc.err {
			t.Errorf("echo 1 > %s: %v, want %v", tc.p, err, tc.err)
		}
	}
	if _, err := s.ReadDir("/sys/kernel/tracing/trace"); ErrnoOf(err) != ENOTDIR {
		t.Errorf("ls of a tracefs file as a directory: %v, want ENOTDIR", err)
	}
	if _, err := s.ReadDir("/sys/kernel/nothing"); ErrnoOf(err) != ENOENT {
		t.Errorf("ls /sys/kernel/nothing: %v, want ENOENT", err)
	}
}
