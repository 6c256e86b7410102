package jsonenc

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
)

// unpack turns ViewPacked's output back into what View writes, decoded.
func unpack(t *testing.T, packed []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(packed, &m); err != nil {
		t.Fatalf("ViewPacked: invalid JSON: %v\n%s", err, clip(packed))
	}
	frames, ok := m["Frames"].([]any)
	if !ok {
		t.Fatalf("ViewPacked: no Frames array")
	}
	delete(m, "Frames")
	tasks, _ := m["Tasks"].([]any)
	for _, x := range tasks {
		task := x.(map[string]any)
		st, ok := task["Stack"].([]any)
		if !ok {
			continue // null
		}
		for i, ref := range st {
			st[i] = frames[int(ref.(float64))]
		}
	}
	return m
}

// samePacked fails unless ViewPacked, unpacked, is View's JSON.
func samePacked(t *testing.T, what string, v *sim.View) {
	t.Helper()
	packed := ViewPacked(nil, v)
	if !bytes.HasSuffix(packed, []byte("]}")) || !bytes.Contains(packed, []byte(`,"Frames":[`)) {
		t.Fatalf("%s: packed view does not end with Frames: %s", what, clip(packed))
	}
	var want map[string]any
	if err := json.Unmarshal(View(nil, v), &want); err != nil {
		t.Fatal(err)
	}
	if got := unpack(t, packed); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: unpacked view differs:\n got %v\nwant %v", what, got, want)
	}
}

// same fails unless got is exactly what encoding/json writes for v, and
// also decodes to the same value (a second, independent look).
func same(t *testing.T, what string, got []byte, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from encoding/json:\n got %s\nwant %s", what, clip(got), clip(want))
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("%s: invalid JSON: %v\n%s", what, err, clip(got))
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("%s decodes differently", what)
	}
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// filler sets every field of a value to something random, through
// reflection, so that a field added to sim.View (or the others) gets
// values here without changing this test, and the comparison with
// encoding/json then fails until the encoder writes it too.
type filler struct{ r *rand.Rand }

var nasty = []string{"", "a", "cmdline_proc_show+0x1a/0x30 [mod]", `quote " and \ backslash`, "<script>&amp;</script>",
	"tab\tnl\ncr\rbs\bff\f", "\x00\x01\x1f\x7f", "é ü 日本 😀", "\u2028\u2029", "bad \xff\xfe utf-8 \xe2\x82", "KLP_TRANSITION_IDLE"}

func (f *filler) str() string {
	if f.r.IntN(3) == 0 {
		// random bytes, valid UTF-8 or not
		b := make([]byte, f.r.IntN(12))
		for i := range b {
			b[i] = byte(f.r.IntN(256))
		}
		return string(b)
	}
	return nasty[f.r.IntN(len(nasty))]
}

func (f *filler) fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(f.r.IntN(2) == 0)
	case reflect.Int, reflect.Int64, reflect.Int32:
		switch f.r.IntN(4) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(int64(f.r.IntN(10)) - 1)
		default:
			v.SetInt(f.r.Int64() >> f.r.IntN(63))
			if f.r.IntN(2) == 0 {
				v.SetInt(-v.Int())
			}
		}
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		if f.r.IntN(3) == 0 {
			v.SetUint(0)
		} else {
			v.SetUint(f.r.Uint64() >> f.r.IntN(64))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f.fill(v.Field(i), depth)
		}
	case reflect.Pointer:
		if f.r.IntN(3) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		switch f.r.IntN(4) {
		case 0:
			v.SetZero() // nil: null
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // empty: []
		default:
			n := 1 + f.r.IntN(max(1, 6-depth))
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := 0; i < n; i++ {
				f.fill(s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		switch f.r.IntN(4) {
		case 0:
			v.SetZero()
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for range 1 + f.r.IntN(5) {
				k := reflect.New(v.Type().Key()).Elem()
				f.fill(k, depth+1)
				e := reflect.New(v.Type().Elem()).Elem()
				f.fill(e, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	default:
		panic("filler: no support for " + v.Type().String() + "; teach the test and the encoder this type")
	}
}

func TestRandomValuesMatchEncodingJSON(t *testing.T) {
	f := &filler{r: rand.New(rand.NewPCG(1, 2))}
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		var v sim.View
		f.fill(reflect.ValueOf(&v).Elem(), 0)
		same(t, "View", View(nil, &v), v)
		samePacked(t, "ViewPacked", &v)

		var evs []sim.Event
		f.fill(reflect.ValueOf(&evs).Elem(), 0)
		same(t, "Events", Events(nil, evs), evs)

		var ll []LogLine
		f.fill(reflect.ValueOf(&ll).Elem(), 0)
		same(t, "LogLines", LogLines(nil, ll), ll)

		var out []scenario.Out
		f.fill(reflect.ValueOf(&out).Elem(), 0)
		type outLine struct {
			Kind  string `json:"kind"`
			Text  string `json:"text"`
			Level string `json:"level"`
		}
		outJSON := []outLine{}
		for _, o := range out {
			outJSON = append(outJSON, outLine{o.Kind, o.Text, o.Level})
		}
		same(t, "Output", Output(nil, out), outJSON)
		msg := f.str()
		failed := f.r.IntN(2) == 0
		var errText any
		if failed {
			errText = msg
		}
		same(t, "Result", Result(nil, out, msg, failed), struct {
			Output []outLine `json:"output"`
			Error  any       `json:"error"`
		}{outJSON, errText})
		type resultJSON struct {
			Output []outLine `json:"output"`
			Error  any       `json:"error"`
		}
		var res []scenario.Result
		var resJSON []resultJSON
		for range f.r.IntN(3) {
			var e error
			if failed {
				e = errors.New(msg)
			}
			res = append(res, scenario.Result{Out: out, Err: e})
			resJSON = append(resJSON, resultJSON{outJSON, errText})
		}
		if resJSON == nil {
			resJSON = []resultJSON{}
		}
		same(t, "Results", Results(nil, res, msg), struct {
			Results []resultJSON `json:"results"`
			Note    string       `json:"note"`
		}{resJSON, msg})

		var gs []scenario.GoalResult
		f.fill(reflect.ValueOf(&gs).Elem(), 0)
		fails := f.r.IntN(5)
		same(t, "Goals", Goals(nil, gs, fails), map[string]any{"goals": gs, "failures": fails})

		// appending to a buffer keeps what was there
		pre := []byte("prefix")
		if got := View(pre, &v); !bytes.HasPrefix(got, pre) || i < 0 {
			t.Fatal("View dropped the buffer's contents")
		}
	}
}

// Every string the filler can make, one at a time, as a map key and value.
func TestStrings(t *testing.T) {
	all := append([]string{}, nasty...)
	for c := range 256 {
		all = append(all, string([]byte{byte(c)}), "x"+string(rune(c))+"y")
	}
	for r := rune(0x7f); r < 0x3000; r += 7 {
		all = append(all, string(r))
	}
	all = append(all, "\u2028", "\u2029", "\U0010ffff", "\xed\xa0\x80", strings.Repeat("ab<", 100))
	for _, s := range all {
		v := sim.View{Profile: s, StateNames: map[string]string{s: s, "0": s}}
		same(t, "View with "+strings.ToValidUTF8(s, "?"), View(nil, &v), v)
	}
}

// Real sessions: every example scenario, as run, after some time, and
// settled, with a spawn-random crowd in one of them.
func TestExampleSessionsMatchEncodingJSON(t *testing.T) {
	var files []string
	for _, dir := range []string{"../../web/examples", "../../examples"} {
		m, err := filepath.Glob(filepath.Join(dir, "*.klp"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no example scenarios found")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s, _, err := scenario.NewSession(file, string(text))
			if err != nil {
				t.Fatal(err)
			}
			check := func(step string) {
				m := s.Sim()
				v := m.View()
				same(t, step+": View", View(nil, &v), v)
				samePacked(t, step+": ViewPacked", &v)
				same(t, step+": Events", Events(nil, m.Events()), m.Events())
				var ll []LogLine
				for _, l := range m.Log() {
					ll = append(ll, LogLine{Seq: l.Seq, Time: l.Time, Level: l.Level.String(), Text: l.Text, Dmesg: l.Dmesg()})
				}
				same(t, step+": LogLines", LogLines(nil, ll), ll)
				g := s.Goals()
				same(t, step+": Goals", Goals(nil, g, s.Failures()), map[string]any{"goals": g, "failures": s.Failures()})
			}
			check("start")
			for _, line := range []string{"tick 300", "spawn-random 20 frames=4", "settle", "cpu 1 offline"} {
				if _, err := s.Exec(line); err != nil {
					t.Logf("%s: %v (checked anyway)", line, err)
				}
				check(line)
			}
		})
	}
}

// BenchmarkView2000 is the view the page asks for on every play tick
// with 2,000 tasks: the core builds it, then it is encoded.
func BenchmarkView2000(b *testing.B) {
	text, err := os.ReadFile("../../web/examples/default.klp")
	if err != nil {
		b.Fatal(err)
	}
	s, _, err := scenario.NewSession("bench", string(text)+"spawn-random 2000\n")
	if err != nil {
		b.Fatal(err)
	}
	v := s.Sim().View()
	b.Run("core-View", func(b *testing.B) {
		for b.Loop() {
			v = s.Sim().View()
		}
	})
	b.Run("jsonenc", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = View(buf[:0], &v)
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("jsonenc-packed", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = ViewPacked(buf[:0], &v)
		}
		b.ReportMetric(float64(len(buf)), "bytes")
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
