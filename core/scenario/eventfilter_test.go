package scenario

import (
	"strings"
	"testing"
)

// Expectations and until match events by their typed fields.
func TestEventFilter(t *testing.T) {
	const box = `kernel 6.16
cpus 2
vmlinux do_syscall_64 ksys_read vfs_read seq_read cmdline_proc_show/0x30 schedule
livepatch livepatch-sample
  object vmlinux
    func cmdline_proc_show -> livepatch_cmdline_proc_show/0x30
end
task 42 cat state=S stack=do_syscall_64>ksys_read>vfs_read>seq_read>cmdline_proc_show+0x1a>schedule
task 43 bash user
task 44 top user
insmod livepatch-sample.ko
`
	for _, c := range []struct {
		lines string
		pass  bool
	}{
		{"expect event switch pid=0 cpu=1 reason=idle", true},        // the text poke
		{"expect event switch pid=0 cpu=0 reason=stack-check", true}, // the caller's CPU
		{"expect event switch pid=0 cpu=1 reason=stack-check", false},
		{`expect event switch pid=44 reason="stack check" to=1`, true}, // one of a sweep's PIDs
		{"expect event switch pid=42", false},
		{"expect no-event switch reason=fake-signal", true},
		{"until switch reason=fake-signal\nexpect event switch pid=42 reason=fake-signal", true},
		{"expect event switch pid=42 to=0", false},
		{"expect event step patch=livepatch_sample", true},
		{"expect event step patch=other", false},
		{"exit 42\nsettle\necho 0 > /sys/kernel/livepatch/livepatch_sample/enabled\nexpect event wait wait=begin\nexpect event wait wait=end", true},
		{"expect event wait wait=begin", false},
	} {
		s, _, err := NewSession("f", box+c.lines+"\n")
		if err != nil {
			t.Fatalf("%q: %v", c.lines, err)
		}
		if got := s.Failures() == 0; got != c.pass {
			t.Errorf("%q: passed %v, want %v", c.lines, got, c.pass)
		}
	}
	for _, c := range []struct{ line, err string }{
		{"expect event switch reason=stak-check", `expect event: unknown switch reason "stak-check" (did you mean "stack-check"?)`},
		{"expect event switch pid=x", "expect event: pid= takes a number"},
		{"expect event switch to=2", "expect event: to= takes a number from -1 to 1"},
		{"expect event wait wait=middle", "expect event: wait= takes begin or end"},
		{"until switch colour=red", "until: unknown option colour= (want pid=, cpu="},
		{"until switch within=x", "until: within= takes seconds"},
	} {
		_, _, err := NewSession("f", box+c.line+"\n")
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: error %v, want %q", c.line, err, c.err)
		}
	}
}
