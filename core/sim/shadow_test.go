package sim

import "testing"

func TestShadowVariables(t *testing.T) {
	s := newSim(t, "6.16")
	var ctorCalls, dtorCalls int
	ctor := func(v uint64) ShadowCtor {
		return func(obj, sv uint64) Errno { ctorCalls++; s.ShadowSet(sv, v); return 0 }
	}
	dtor := func(obj, sv uint64) { dtorCalls++ }
	const a, b = 0x1000, 0x2000
	if s.ShadowGet(a, 1) != 0 {
		t.Fatal("empty table must find nothing")
	}
	sv := s.ShadowAlloc(a, 1, ctor(7))
	if sv == 0 || s.ShadowGet(a, 1) != sv || s.ShadowValue(sv) != 7 {
		t.Fatalf("alloc: %#x, get %#x, value %d", sv, s.ShadowGet(a, 1), s.ShadowValue(sv))
	}
	if dup := s.ShadowAlloc(a, 1, ctor(8)); dup != 0 || !hasLineContaining(logTexts(s), "Duplicate shadow variable") {
		t.Fatalf("a duplicate alloc must fail with the kernel's warning (%#x)", dup)
	}
	if got := s.ShadowGetOrAlloc(a, 1, ctor(9)); got != sv || s.ShadowValue(sv) != 7 {
		t.Fatal("get_or_alloc must return the existing variable untouched")
	}
	if ctorCalls != 1 {
		t.Fatalf("constructor ran %d times, want 1", ctorCalls)
	}
	s.ShadowAlloc(b, 1, nil)
	s.ShadowAlloc(b, 2, nil)
	s.ShadowFree(a, 1, dtor)
	if s.ShadowGet(a, 1) != 0 || dtorCalls != 1 {
		t.Fatal("free must detach and call the destructor")
	}
	s.ShadowFreeAll(1, dtor)
	if s.ShadowGet(b, 1) != 0 || s.ShadowGet(b, 2) == 0 || dtorCalls != 2 {
		t.Fatal("free_all frees only its id")
	}
	failing := func(obj, sv uint64) Errno { return ENOMEM }
	if s.ShadowAlloc(a, 3, failing) != 0 || s.ShadowGet(a, 3) != 0 || !hasLineContaining(logTexts(s), "livepatch: Failed to construct shadow variable") {
		t.Fatal("a failing constructor must leave nothing behind and log the kernel's error")
	}
	// A clone keeps its own table.
	c := s.Clone()
	c.ShadowFreeAll(2, nil)
	if s.ShadowGet(b, 2) == 0 {
		t.Fatal("a clone's free changed the original")
	}
}
