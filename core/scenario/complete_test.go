package scenario

import (
	"reflect"
	"strings"
	"testing"
)

func TestComplete(t *testing.T) {
	s, _, err := NewSession("t", `cpus 2
vmlinux do_syscall_64 ksys_read vfs_read seq_read cmdline_proc_show/0x30 schedule
module target_mod tfunc
livepatch lp
  object vmlinux
    func cmdline_proc_show -> lp_cmdline_proc_show/0x30
end
task 42 cat state=S stack=do_syscall_64>ksys_read
insmod lp
`)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		line    string
		insert  string
		matches string // space-separated; "" for none
	}{
		{"ins", "mod ", "insmod"},
		{"s", "", "seed settle shell sleep spawn-random syscall sysctl sysret"},
		{"sysr", "et ", "sysret"},
		{"wake ", "42 ", "42"},
		{"insmod t", "arget_mod ", "target_mod"},
		{"rmmod ", "", "lp target_mod"},
		{"kernel 6.1", "", "6.10 6.16"},
		{"cpu ", "", "0 1"},
		{"cpu 1 on", "line ", "online"},
		{"kill -S", "TOP ", "-STOP"},
		{"kill -STOP 4", "2 ", "42"},
		{"until sig", "nal ", "signal"},
		{"until switch wi", "thin=", "within="},
		{"until switch r", "eason=", "reason="},
		{"call 42 vfs", "_read ", "vfs_read"},
		{"task 43 x stack=do_syscall_64>ksys", "_read ", "stack=do_syscall_64>ksys_read"},
		{"vmlinux sched", "ule ", "schedule"},
		{"task 43 x kth", "read ", "kthread"},
		{"task 43 x st", "a", "stack= state="},
		{"task 43 x state=r", "unn", "state=runnable state=running"},
		{"expect task 42 pending=", "", "pending=0 pending=1"},
		{"ptrace 42 d", "etach ", "detach"},
		{"run 42 c", "pu=", "cpu="},
		{"block 42 fr", "eezable ", "freezable"},
		{"expect tra", "nsition ", "transition"},
		{"goal task ", "42 ", "42"},
		{"expect task 42 pen", "ding=", "pending="},
		{"expect event sw", "itch ", "switch"},
		{"hz 3", "00 ", "300"},
		{"arch u", "nreliable-stacks ", "unreliable-stacks"},
		{"echo 1 > /sys/kernel/livepatch/l", "p/", "/sys/kernel/livepatch/lp/"},
		{"cat /proc/4", "2/", "/proc/42/"},
		{"cat /nonexistent/x", "", ""},
		{"ps 4", "2 ", "42"},               // no rule: functions and pids
		{"insmod lp\nrmmod l", "p ", "lp"}, // the caret's line only
		{"bogus z", "", ""},
	}
	for _, c := range cases {
		got := s.Complete(c.line, len(c.line))
		if got.Insert != c.insert || strings.Join(got.Matches, " ") != c.matches {
			t.Errorf("Complete(%q) = %q %q, want %q %q", c.line, got.Insert, got.Matches, c.insert, c.matches)
		}
	}
	// the caret, not the end of the text, decides the word
	if got := s.Complete("wake 4 # later", len("wake 4")); !reflect.DeepEqual(got, Completion{"2 ", []string{"42"}}) {
		t.Errorf("caret in the middle: %+v", got)
	}
}

// Completion never panics, whatever the text and caret, and its matches
// are sorted, distinct and share what it inserts.
func FuzzComplete(f *testing.F) {
	s, _, err := NewSession("f", "vmlinux a b/0x30\ntask 42 x stack=a>b\nmodule m f\n")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"", "wak", "wake 4", "cat /proc/4", "echo 1 >/sys/kernel/", "task 1 x stack=a>", "expect task 42 pending=", "\n\n ins", "until sw", "é\x00 \t/"} {
		f.Add(seed, len(seed))
	}
	f.Fuzz(func(t *testing.T, text string, caret int) {
		c := s.Complete(text, caret)
		for i, m := range c.Matches {
			if i > 0 && c.Matches[i-1] >= m {
				t.Fatalf("matches not sorted and distinct: %q", c.Matches)
			}
			if ins := strings.TrimSuffix(c.Insert, " "); !strings.Contains(m, ins) {
				t.Fatalf("match %q lacks the inserted %q", m, ins)
			}
		}
		if c.Insert != "" && len(c.Matches) == 0 {
			t.Fatalf("insert %q without matches", c.Insert)
		}
	})
}
