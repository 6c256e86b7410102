package scenario

import (
	"reflect"
	"testing"
)

func TestCapLog(t *testing.T) {
	log := func(s string) Out { return Out{Kind: "log", Text: s, Level: "info"} }
	cmd := Out{Kind: "cmd", Text: "tick 25"}
	errOut := Out{Kind: "stderr", Text: "bash: x"}
	more := func(n string) Out {
		return Out{Kind: "note", Text: "… and " + n + " more kernel log lines (dmesg shows them all)"}
	}
	for _, c := range []struct {
		name string
		in   []Out
		max  int
		want []Out
	}{
		{"no cap", []Out{cmd, log("a"), log("b")}, 0, []Out{cmd, log("a"), log("b")}},
		{"under the cap", []Out{cmd, log("a"), log("b")}, 2, []Out{cmd, log("a"), log("b")}},
		{"over the cap: the first kept, the rest counted", []Out{cmd, log("a"), log("b"), log("c"), errOut}, 1, []Out{cmd, log("a"), errOut, more("2")}},
		{"other output is never dropped", []Out{log("a"), errOut, log("b"), cmd}, 1, []Out{log("a"), errOut, cmd, more("1")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := CapLog(c.in, c.max); !reflect.DeepEqual(got, c.want) {
				t.Errorf("CapLog(%d) = %v, want %v", c.max, got, c.want)
			}
		})
	}
}
