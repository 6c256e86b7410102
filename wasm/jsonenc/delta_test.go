package jsonenc

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
)

// TestViewDelta: the delta's JSON is its packed view plus the three
// delta fields, as encoding/json would write them.
func TestViewDelta(t *testing.T) {
	s, _, err := scenario.NewSession("d", "cpus 2\nvmlinux a b/0x30 schedule\ntask 42 cat state=S stack=a>b>schedule\ntask 43 sh user\n")
	if err != nil {
		t.Fatal(err)
	}
	var tr sim.ViewTracker
	for _, line := range []string{"", "fork 43", "tick 1"} {
		if line != "" {
			if _, err := s.Exec(line); err != nil {
				t.Fatal(err)
			}
		}
		d := s.Sim().ViewDelta(&tr)
		got := unpack(t, ViewDelta(nil, &d))
		var want map[string]any
		if err := json.Unmarshal(View(nil, &d.View), &want); err != nil {
			t.Fatal(err)
		}
		extra, _ := json.Marshal(struct {
			Changed, Keys []int
			Full          bool
		}{d.Changed, d.Keys, d.Full})
		if err := json.Unmarshal(extra, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after %q:\n got %v\nwant %v", line, got, want)
		}
	}
}
