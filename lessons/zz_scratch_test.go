package lessons

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/klp-playground/klp/core/scenario"
)

func TestZZScratch(t *testing.T) {
	f := os.Getenv("SCR")
	if f == "" {
		t.Skip()
	}
	src, _ := os.ReadFile(f)
	parts := strings.SplitN(string(src), "----\n", 2)
	s, out, err := scenario.NewSession(f, parts[0])
	pr := func(out []scenario.Out) {
		for _, o := range out {
			fmt.Printf("%-6s %s\n", o.Kind, o.Text)
		}
	}
	pr(out)
	if err != nil {
		fmt.Println("ERR", err)
		return
	}
	ev := len(s.Sim().Events())
	dump := func() {
		for _, e := range s.Sim().Events()[ev:] {
			fmt.Printf("   ev %-8s %s\n", e.Kind, e.Text)
		}
		ev = len(s.Sim().Events())
	}
	if os.Getenv("EV") != "" {
		dump()
	}
	for _, g := range s.Goals() {
		fmt.Printf("GOAL-BEFORE %v %s: %s\n", g.OK, g.Goal, g.Reason)
	}
	if len(parts) > 1 {
		for _, l := range strings.Split(parts[1], "\n") {
			if strings.TrimSpace(l) == "" {
				continue
			}
			o, err := s.Exec(l)
			pr(o)
			if os.Getenv("EV") != "" {
				dump()
			}
			if err != nil {
				fmt.Println("ERR", err)
			}
		}
	}
	for _, g := range s.Goals() {
		fmt.Printf("GOAL-AFTER %v %s: %s\n", g.OK, g.Goal, g.Reason)
	}
}
