package scenario

import (
	"regexp"
	"testing"
)

var bigNumber = regexp.MustCompile(`[0-9]{3,}|0x`)

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

// FuzzSession: running any parsed scenario never panics.
func FuzzSession(f *testing.F) {
	f.Add("vmlinux f g\nlivepatch p\n object vmlinux\n  func f -> h\nend\ntask 1 a state=S stack=g>f\ninsmod p\nsleep 20\n")
	f.Add("cpus 2 offline=1\ntask 2 k kthread cpu=0\ncond_resched 2\nfork 2\n")
	f.Fuzz(func(t *testing.T, src string) {
		// Long simulated times are legal but slow to fuzz: keep to small
		// numbers so the fuzzer explores statements, not retries.
		if len(src) > 2000 || bigNumber.MatchString(src) {
			return
		}
		s, _, err := NewSession("fuzz", src)
		if err != nil {
			return
		}
		_ = s.Sim().View()
	})
}
