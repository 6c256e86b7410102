package explore

import "math/bits"

// fpset is the set of visited states: 64-bit keys in an open-addressed
// table (linear probing), 8 bytes a slot. The table grows by a quarter
// when it is three quarters full, so it stays 60–75% full and a visited
// state costs 10.7–13.3 bytes (a table of a power of two, doubled at 80%,
// cost 10–20). A key picks its slot by the high word of mix(key) × size,
// which needs no power of two. Key 0 marks an empty slot; a real key of 0
// is stored as 1 (one more collision among 2^64).
type fpset struct {
	slots []uint64
	n     int
}

func (s *fpset) init(n int) {
	s.slots, s.n = make([]uint64, max(16, n)), 0
}

// slot is where a key's probe starts.
func (s *fpset) slot(k uint64) int {
	hi, _ := bits.Mul64(mix(k), uint64(len(s.slots)))
	return int(hi)
}

func (s *fpset) has(k uint64) bool {
	if k == 0 {
		k = 1
	}
	for i := s.slot(k); ; {
		switch s.slots[i] {
		case k:
			return true
		case 0:
			return false
		}
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

// add inserts k (not already present).
func (s *fpset) add(k uint64) {
	if k == 0 {
		k = 1
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		old := s.slots
		s.slots = make([]uint64, len(old)+max(16, len(old)/4))
		s.n = 0
		for _, v := range old {
			if v != 0 {
				s.put(v)
			}
		}
	}
	s.put(k)
}

func (s *fpset) put(k uint64) {
	i := s.slot(k)
	for s.slots[i] != 0 {
		if i++; i == len(s.slots) {
			i = 0
		}
	}
	s.slots[i] = k
	s.n++
}

func (s *fpset) bytes() int { return 8 * len(s.slots) }
