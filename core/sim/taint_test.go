package sim

import "testing"

// TestTainted: /proc/sys/kernel/tainted shows TAINT_LIVEPATCH once a
// livepatch module loads, and a write adds flags (never clears one),
// ignoring bits past the profile's TAINT_FLAGS_COUNT;
// /sys/module/<m>/taint says K for a livepatch module only.
func TestTainted(t *testing.T) {
	for _, c := range []struct {
		prof   string
		writes []string
		want   string
		errno  Errno
	}{
		{"6.16", nil, "32768", 0},
		{"6.16", []string{"1"}, "32769", 0},
		{"6.16", []string{"1", "0"}, "32769", 0},     // 0 clears nothing
		{"6.16", []string{"0x1000"}, "36864", 0},     // base 0, as strtoul
		{"6.16", []string{"" + "\n"}, "32768", 0},    // no number: nothing written
		{"6.16", []string{"1048576"}, "32768", 0},    // bit 20: past FWCTL, ignored
		{"6.14", []string{"524288"}, "32768", 0},     // bit 19 (FWCTL) came in 6.15
		{"6.16", []string{"524288"}, "557056", 0},    // ... and is a flag there
		{"4.12", []string{"65536"}, "32768", 0},      // AUX (16) came in 4.15
		{"6.16", []string{"-1"}, "32768", EINVAL},    // an unsigned long
		{"6.16", []string{"12abc"}, "32768", EINVAL}, // nothing after the number
		{"6.16", []string{"32768"}, "32768", 0},      // K by hand reads the same
	} {
		s := newSim(t, c.prof)
		addMods(t, s, targetMod("tmod", "tmod_fn"), lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
		if got := read(t, s, "/proc/sys/kernel/tainted"); got != "0\n" {
			t.Errorf("%s: tainted before any livepatch: %q", c.prof, got)
		}
		must(t, s.Insmod("tmod"))
		must(t, s.Insmod("lp"))
		var err error
		for _, w := range c.writes {
			if e := s.WriteFile("/proc/sys/kernel/tainted", w); e != nil {
				err = e
			}
		}
		wantErrno(t, c.prof+" write "+c.want, err, c.errno)
		if got := read(t, s, "/proc/sys/kernel/tainted"); got != c.want+"\n" {
			t.Errorf("%s after %q: tainted reads %q, want %s", c.prof, c.writes, got, c.want)
		}
		if got := read(t, s, "/sys/module/lp/taint"); got != "K\n" {
			t.Errorf("/sys/module/lp/taint = %q", got)
		}
		if got := read(t, s, "/sys/module/tmod/taint"); got != "\n" {
			t.Errorf("/sys/module/tmod/taint = %q", got)
		}
	}
}

// TestTaintNoticeOnce: the loader's notice is pr_notice_once, so a K
// written by hand first does not silence it.
func TestTaintNoticeOnce(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")), lp("lp2", obj("vmlinux", "lp2", "meminfo_proc_show")))
	must(t, s.WriteFile("/proc/sys/kernel/tainted", "32768"))
	must(t, s.Insmod("lp"))
	must(t, s.Insmod("lp2"))
	if n := count(logTexts(s), "lp: tainting kernel with TAINT_LIVEPATCH"); n != 1 {
		t.Errorf("the notice printed %d times, want once: %q", n, logTexts(s))
	}
	if got := read(t, s, "/proc/sys/kernel/tainted"); got != "32768\n" {
		t.Errorf("tainted = %q", got)
	}
}
