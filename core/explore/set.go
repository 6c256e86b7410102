package explore

// fpset is the set of visited states: 64-bit keys in an open-addressed
// table (linear probing), 8 bytes a slot, kept between 40% and 80% full,
// so a visited state costs 10–20 bytes. Key 0 marks an empty slot; a real
// key of 0 is stored as 1 (one more collision among 2^64).
type fpset struct {
	slots []uint64
	n     int
}

func (s *fpset) init(n int) {
	c := 16
	for c < n {
		c <<= 1
	}
	s.slots, s.n = make([]uint64, c), 0
}

func (s *fpset) has(k uint64) bool {
	if k == 0 {
		k = 1
	}
	m := uint64(len(s.slots) - 1)
	for i := mix(k) & m; ; i = (i + 1) & m {
		switch s.slots[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

// add inserts k (not already present).
func (s *fpset) add(k uint64) {
	if k == 0 {
		k = 1
	}
	if (s.n+1)*5 > len(s.slots)*4 {
		old := s.slots
		s.slots = make([]uint64, 2*len(old))
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
	m := uint64(len(s.slots) - 1)
	i := mix(k) & m
	for s.slots[i] != 0 {
		i = (i + 1) & m
	}
	s.slots[i] = k
	s.n++
}

func (s *fpset) bytes() int { return 8 * len(s.slots) }
