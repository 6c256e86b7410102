package scenario

import (
	"strings"
	"testing"
)

// sysctl, /dev/kmsg and dmesg -C/-c as a shell user sees them.
func TestSysctlKmsgDmesg(t *testing.T) {
	s, _, err := NewSession("f", "vmlinux cmdline_proc_show/0x30 schedule\nlivepatch lp\n  object vmlinux\n    func cmdline_proc_show -> livepatch_cmdline_proc_show\nend\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		line           string
		stdout, stderr string
	}{
		{"sysctl kernel.ftrace_enabled", "kernel.ftrace_enabled = 1", ""},
		{"sysctl --values kernel.ftrace_enabled", "1", ""},
		{"sysctl kernel.ftrace_enabled=0", "kernel.ftrace_enabled = 0", ""},
		{"sysctl -q kernel.ftrace_enabled=1", "", ""},
		{"sysctl kernel.nosuch", "", "sysctl: cannot stat /proc/sys/kernel/nosuch: No such file or directory"},
		{"insmod lp.ko", "", ""},
		{"sysctl -q kernel.ftrace_enabled=0", "", `sysctl: setting key "kernel.ftrace_enabled": Device or resource busy`},
		{"sysctl -n kernel.ftrace_enabled", "1", ""},
		{"dmesg -C", "", ""},
		{`echo "<6>% rmmod lp" > /dev/kmsg`, "", ""},
		{"dmesg -c", "% rmmod lp", ""},
		{"dmesg", "", ""},
		{`echo "after" > /dev/kmsg`, "", ""},
		{"dmesg", "after", ""},
		{"dmesg -C", "", ""},
		{"dmesg", "", ""},
		{`echo "func klp_init_transition =_" > /proc/dynamic_debug/control`, "", ""},
		{`echo "funk x +p" > /proc/dynamic_debug/control`, "", "bash: echo: write error: Invalid argument"},
	} {
		out, err := s.Exec(c.line)
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		var stdout, stderr []string
		for _, o := range out {
			switch o.Kind {
			case "stdout":
				stdout = append(stdout, o.Text)
			case "stderr":
				stderr = append(stderr, o.Text)
			}
		}
		// dmesg lines carry a timestamp; compare what follows it.
		got := strings.Join(stdout, "\n")
		if i := strings.Index(got, "] "); strings.HasPrefix(c.line, "dmesg") && i >= 0 {
			got = got[i+2:]
		}
		if got != c.stdout || strings.Join(stderr, "\n") != c.stderr {
			t.Errorf("%s: stdout %q stderr %q, want %q and %q", c.line, got, stderr, c.stdout, c.stderr)
		}
	}
	if _, err := s.Exec("sysctl -x kernel.ftrace_enabled"); err == nil || !strings.Contains(err.Error(), "sysctl takes") {
		t.Errorf("a bad option must be a scenario error naming sysctl, got %v", err)
	}
}

func TestExpectFileMode(t *testing.T) {
	for _, c := range []struct {
		prof, line string
		ok         bool
	}{
		{"6.16", "expect file /sys/kernel/livepatch/p/force mode=0200", true},
		{"6.16", "expect file /sys/kernel/livepatch/p/enabled mode=644", true},
		{"6.16", "expect file /sys/kernel/livepatch/p/replace mode=0444", true},
		{"6.16", "expect file /sys/kernel/livepatch/p/stack_order mode=0444", true},
		{"6.16", "expect file /sys/kernel/livepatch/p/enabled mode=0200", false},
		{"4.16", "expect file /sys/kernel/livepatch/p/signal mode=0200", true},
		{"6.16", "expect file /sys/kernel/livepatch/p/signal mode=0200", false},
	} {
		src := "kernel " + c.prof + "\nvmlinux f\nlivepatch p\n object vmlinux\n  func f -> g\nend\ninsmod p.ko\n" + c.line + "\n"
		s, out, err := NewSession("f", src)
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		if got := s.Failures() == 0; got != c.ok {
			t.Errorf("%s on %s: holds=%v, want %v (%v)", c.line, c.prof, got, c.ok, out[len(out)-1])
		}
	}
}

// The same failures in kmod's words and in busybox's, and sysctl's in
// procps-ng's before and after 3.3.16.
func TestUserlandFlavour(t *testing.T) {
	// A patch whose transition is forced: its module stays referenced.
	base := "vmlinux kthread f schedule\ntask 9 w kthread state=D stack=kthread>f>schedule\nlivepatch p\n object vmlinux\n  func f -> g\nend\ninsmod p.ko\necho 1 > /sys/kernel/livepatch/p/force\nwake 9\nret 9 2\nsleep 1\n"
	for _, c := range []struct {
		userland, line, want string
	}{
		{"kmod", "insmod nosuch.ko", "insmod: ERROR: could not load module nosuch.ko: No such file or directory"},
		{"busybox", "insmod nosuch.ko", "insmod: can't insert 'nosuch.ko': No such file or directory"},
		{"kmod", "insmod p.ko", "insmod: ERROR: could not insert module p.ko: File exists"},
		{"busybox", "insmod p.ko", "insmod: can't insert 'p.ko': File exists"},
		{"kmod", "rmmod nosuch", "rmmod: ERROR: Module nosuch is not currently loaded"},
		{"busybox", "rmmod nosuch", "rmmod: can't unload module 'nosuch': No such file or directory"},
		{"kmod", "rmmod p", "rmmod: ERROR: Module p is in use"},
		{"busybox", "rmmod p", "rmmod: can't unload module 'p': Resource temporarily unavailable"},
		{"procps", "sysctl kernel.ftrace_enabled=0", `sysctl: setting key "kernel.ftrace_enabled": Device or resource busy`},
		{"procps-3.3.15", "sysctl kernel.ftrace_enabled=0", `sysctl: setting key "kernel.ftrace_enabled": Device or resource busy` + "\nkernel.ftrace_enabled = 0"},
		{"procps-3.3.15", "sysctl -q kernel.ftrace_enabled=0", `sysctl: setting key "kernel.ftrace_enabled": Device or resource busy`},
		{"busybox procps-3.3.15", "rmmod p", "rmmod: can't unload module 'p': Resource temporarily unavailable"},
		{"busybox procps-3.3.15", "sysctl -n kernel.ftrace_enabled=0", `sysctl: setting key "kernel.ftrace_enabled": Device or resource busy` + "\n0"},
	} {
		s, _, err := NewSession("f", "userland "+c.userland+"\n"+base)
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Exec(c.line)
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		// What the tool printed, from its first complaint on.
		var got []string
		for _, o := range out {
			if o.Kind == "stderr" || (len(got) > 0 && o.Kind == "stdout") {
				got = append(got, o.Text)
			}
		}
		if g := strings.Join(got, "\n"); g != c.want {
			t.Errorf("%s, %s: %q, want %q", c.userland, c.line, g, c.want)
		}
	}
	for _, bad := range []string{"userland toybox\n", "userland kmod procps-4\n", "userland kmod=1\n"} {
		if _, _, err := NewSession("f", bad); err == nil || !strings.Contains(err.Error(), "kmod, busybox, procps or procps-3.3.15") {
			t.Errorf("%q must be refused naming the choices, got %v", bad, err)
		}
	}
}
