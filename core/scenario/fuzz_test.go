package scenario

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse: no input makes the parser panic, and whatever parses prints
// to text that parses to the same statements.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"kernel 6.16\ntask 1 a state=S stack=a>b+0x1\n", "livepatch p\n object vmlinux\n  func a -> b\nend\n", "echo \"x\\\"\" > /sys/x", "expect dmesg\nx\nend", "k=\"v\" =x ="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		sc, err := Parse("fuzz", src)
		if err != nil {
			return
		}
		again, err := Parse("fuzz", sc.String())
		if err != nil {
			t.Fatalf("printed script does not parse: %v\n%q", err, sc.String())
		}
		if sc.String() != again.String() {
			t.Fatalf("print not stable:\n%q\n%q", sc.String(), again.String())
		}
	})
}

// FuzzSession: running any parsed scenario within a small budget never
// panics, and takes little time and memory.
func FuzzSession(f *testing.F) {
	f.Add("vmlinux f g\nlivepatch p\n object vmlinux\n  func f -> h\nend\ntask 1 a state=S stack=g>f\ninsmod p\nsleep 20\n")
	f.Add("cpus 2 offline=1\ntask 2 k kthread cpu=0\ncond_resched 2\nfork 2\n")
	f.Add("kernel 6.12\nvmlinux f kthread spin\nlivepatch p\n object vmlinux\n  func f -> h\nend\nmodule m x\ntask 30 kw kthread state=S stack=kthread\nkworker 30\ntask 43 bash user\nshell 43\ntask 300 s kthread cpu=1 stack=kthread>spin\ninsmod p\ncond_resched 300\nsleep 1\necho 0 > /sys/kernel/livepatch/p/enabled\ncond_resched 300\nuntil wait\ninsmod m\nsleep 2\n")
	f.Add("vmlinux f g\nlivepatch p\n object vmlinux\n  func f -> h\nend\ntask 1 a state=S stack=g>f\ntask 2 b cpu=0\ninsmod p\ncall 2 g f split=transition\nsleep 2\ncall-finish 2\n")
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4000 {
			return
		}
		withinLimits(t, "NewSession", func() {
			s, _, err := NewSessionBudget("fuzz", src, fuzzBudget)
			if err != nil {
				return
			}
			_ = s.Sim().View()
		})
	})
}

// FuzzSource: a session rebuilt from its Source() (what share links carry)
// is in the same state: the same source, log and view.
func FuzzSource(f *testing.F) {
	f.Add("vmlinux f g\nlivepatch p\n object vmlinux\n  func f -> h\nend\ntask 1 a state=S stack=g>f\ninsmod p\nsleep 20\n")
	f.Add("kernel 5.1\nvmlinux f\nmodule m x init=\"hi there\"\ninsmod m\necho \"a\\\"b\" > /dev/null\n")
	f.Add("vmlinux f\necho x \r\n")
	f.Add("kernel 6.12\nvmlinux f kthread spin\nlivepatch p\n object vmlinux\n  func f -> h\nend\nmodule m x\ntask 30 kw kthread state=S stack=kthread\nkworker 30\ntask 43 bash user\nshell 43\ntask 300 s kthread cpu=1 stack=kthread>spin\ninsmod p\ncond_resched 300\nsleep 1\necho 0 > /sys/kernel/livepatch/p/enabled\ncond_resched 300\nuntil wait\ninsmod m\nsleep 2\n")
	f.Add("vmlinux f g\nlivepatch p\n object vmlinux\n  func f -> h\nend\ntask 1 a state=S stack=g>f\ntask 2 b cpu=0\ninsmod p\ncall 2 g f split=transition\nsleep 2\ncall-finish 2\n")
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4000 {
			return
		}
		withinLimits(t, "NewSession(Source())", func() {
			a, _, err := NewSessionBudget("fuzz", src, fuzzBudget)
			if err != nil {
				return
			}
			b, _, err := NewSessionBudget("fuzz", a.Source(), fuzzBudget)
			if err != nil {
				t.Fatalf("the source of a session does not run again: %v\n%q", err, a.Source())
			}
			if a.Source() != b.Source() {
				t.Fatalf("source changed on replay:\n%q\n%q", a.Source(), b.Source())
			}
			if x, y := stateOf(a), stateOf(b); x != y {
				t.Fatalf("replaying the source gave another state:\n%s\n---\n%s", x, y)
			}
		})
	})
}

// FuzzExec: console input on a running session (a loaded patch, a blocked
// transition) never panics, and a refused line leaves the session usable
// and its source faithful.
func FuzzExec(f *testing.F) {
	base, _, err := NewSessionBudget("base", "vmlinux f g h\nmodule m x\nlivepatch p\n object vmlinux\n  func f -> f2\n object m\n  func x -> x2\nend\n"+
		"task 1 a state=D stack=g>f\ntask 2 b cpu=0\ninsmod m\ninsmod p\n", fuzzBudget)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"cat /sys/kernel/livepatch/p/transition", "echo 0 > /sys/kernel/livepatch/p/enabled", "rmmod m", "fork 2 thread", "ls /sys/kernel/livepatch/p", "dmesg -c", "kill -STOP 1", "until switch within=5", "call 2 f split", "call 2 g f split=transition\ncall-finish 2", "fork 2 child=9 dup-only\nfork-finish 9", "cond_resched 2 split\necho 0 > /sys/kernel/livepatch/p/enabled\ncall 2 f", "cond_resched 2 split\ncond_resched-finish 2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 4000 {
			return
		}
		withinLimits(t, "Exec", func() {
			s := base.Clone()
			_, _ = s.Exec(line)
			if _, err := s.Exec("cat /sys/kernel/livepatch/p/enabled"); err != nil {
				t.Fatalf("after %q the session no longer answers: %v", line, err)
			}
			if _, err := Parse("again", s.Source()); err != nil {
				t.Fatalf("after %q the source does not parse: %v", line, err)
			}
		})
	})
}

// stateOf is what two equal sessions share: source, log and view.
func stateOf(s *Session) string { return s.Source() + logAndView(s) }

// logAndView is the session's kernel log and view.
func logAndView(s *Session) string {
	var b strings.Builder
	for _, l := range s.Sim().Log() {
		b.WriteString(l.Dmesg() + "\n")
	}
	v, err := json.Marshal(s.Sim().View())
	if err != nil {
		return err.Error()
	}
	b.Write(v)
	return b.String()
}

// FuzzTimeline drives the bridge's session calls natively: each input
// line is console input, or @c (checkpoint), @f (fork), @s N (seek). The
// timeline stays consistent, the session keeps answering, and the share
// source (CompactSource) replays to the same state.
func FuzzTimeline(f *testing.F) {
	const start = "vmlinux f g h\nlivepatch p\n object vmlinux\n  func f -> f2\nend\ntask 1 a state=D stack=g>f\ntask 2 b cpu=0\n"
	for _, s := range []string{"insmod p\n@c\ntick 100\ntick 200\n@c\n@s 0\nwake 1\n@f\ntick 5", "@c\n@c\n@s 1\n@s 0\ninsmod p\nsettle 5", "fork 2 thread\n@c\nexit 1\n@s 0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		if len(input) > 2000 {
			return
		}
		withinLimits(t, "Timeline", func() {
			tl, err := NewTimeline("base", start)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(input, "\n") {
				switch {
				case line == "@c":
					tl.Checkpoint(line)
				case line == "@f":
					tl.Fork()
				case strings.HasPrefix(line, "@s "):
					n, _ := strconv.Atoi(line[3:])
					_ = tl.Seek(n)
				default:
					if _, err := tl.Exec(line, false); err != nil {
						var ie *InternalError
						if errors.As(err, &ie) {
							t.Fatalf("%q: %v", line, err)
						}
					}
				}
				h := tl.History()
				if h.Count != len(h.Labels) || h.Pos < -1 || h.Pos >= max(h.Count, 0) && h.Count > 0 || h.Count > MaxCheckpoints {
					t.Fatalf("after %q: history %+v", line, h)
				}
			}
			cur := tl.Session()
			if cur.Used().Steps > fuzzBudget.Steps*4 {
				return
			}
			again, _, err := NewSession("link", cur.CompactSource())
			if err != nil {
				t.Fatalf("the share source does not run: %v\n%q", err, cur.CompactSource())
			}
			// CompactSource merges ticks, so only the sources differ.
			if x, y := logAndView(cur), logAndView(again); x != y {
				t.Fatalf("the share source replays to another state:\n%s\n---\n%s", x, y)
			}
		})
	})
}
