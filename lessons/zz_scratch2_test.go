package lessons

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/klp-playground/klp/core/scenario"
)

func TestZZTrace(t *testing.T) {
	want := os.Getenv("TRACE") // slug/step
	if want == "" {
		t.Skip()
	}
	ls, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		for _, w := range l.Steps {
			if fmt.Sprintf("%s/%d", l.ID, w.Step) != want {
				continue
			}
			s, out, err := scenario.NewSession(l.File, pad(w.Scenario, w.Line))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out {
				fmt.Printf("%-6s %s\n", o.Kind, o.Text)
			}
			ev := 0
			dump := func() {
				for _, e := range s.Sim().Events()[ev:] {
					if e.Kind == "step" && (strings.Contains(e.Text, "schedule_delayed") || strings.Contains(e.Text, "retry")) {
						continue
					}
					fmt.Printf("   ev %-8s %s\n", e.Kind, e.Text)
				}
				ev = len(s.Sim().Events())
			}
			dump()
			for _, g := range s.Goals() {
				fmt.Printf("GOAL-BEFORE %v %s: %s\n", g.OK, g.Goal, g.Reason)
			}
			for _, line := range strings.Split(w.Solution, "\n") {
				o, err := s.Exec(line)
				for _, x := range o {
					fmt.Printf("%-6s %s\n", x.Kind, x.Text)
				}
				dump()
				if err != nil {
					fmt.Println("ERR", err)
				}
			}
			for _, g := range s.Goals() {
				fmt.Printf("GOAL-AFTER %v %s: %s\n", g.OK, g.Goal, g.Reason)
			}
		}
	}
}
