package scenario

import (
	"strings"
	"testing"
)

// BenchmarkStatements parses and runs 10,000 short statements: the cost of
// the parser and the session's dispatch through the verb registry.
func BenchmarkStatements(b *testing.B) {
	var src strings.Builder
	src.WriteString("vmlinux a b c\ntask 42 x state=S stack=a>b\n")
	for i := 0; i < 2500; i++ {
		src.WriteString("wake 42\nrun 42 cpu=0\nblock 42\ntick 1\n")
	}
	text := src.String()
	b.ResetTimer()
	for range b.N {
		if _, _, err := NewSession("b", text); err != nil {
			b.Fatal(err)
		}
	}
}
