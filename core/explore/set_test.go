package explore

import "testing"

// The set holds what was added and nothing else, key 0 included, through
// its growths, and stays 60–75% full once past its first size.
func TestFpset(t *testing.T) {
	var s fpset
	s.init(16)
	const n = 20000
	key := func(i int) uint64 { return mix(uint64(i)) * 3 } // spread, and 0 for i=0
	for i := 0; i < n; i++ {
		if s.has(key(i)) {
			t.Fatalf("key %d found before it was added", i)
		}
		s.add(key(i))
		if load := float64(s.n) / float64(len(s.slots)); i > 100 && (load > 0.75 || load < 0.55) {
			t.Fatalf("after %d keys the table is %.2f full", i+1, load)
		}
	}
	for i := 0; i < n; i++ {
		if !s.has(key(i)) {
			t.Fatalf("key %d lost", i)
		}
		if s.has(key(i) + 2) {
			t.Fatalf("key %d+2 found but never added", i)
		}
	}
	if b := float64(s.bytes()) / n; b > 13.4 {
		t.Errorf("%.1f bytes per key, want at most 13.3", b)
	}
}
