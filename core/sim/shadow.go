package sim

// Shadow variables (kernel/livepatch/shadow.c): data attached to an object
// by <obj, id>, allocated with an optional constructor and freed with an
// optional destructor. Addresses are simulated: each allocation gets the
// next slot of a fixed region, so runs are deterministic.

type shadowVar struct {
	obj, id uint64
	data    uint64 // the shadow variable's address
	value   uint64 // what the constructor stored in it (test_klp_shadow_vars stores a pointer)
}

type shadowState struct {
	vars []shadowVar // copied on every change: Clone shares it
	next uint64      // allocations so far
}

const shadowBase = 0xffff888004000000

// ShadowCtor initialises a new shadow variable; a non-zero errno makes the
// allocation fail. ShadowDtor sees a variable before it is freed.
type (
	ShadowCtor func(obj, data uint64) Errno
	ShadowDtor func(obj, data uint64)
)

func (s *Sim) shadowFind(obj, id uint64) int {
	for i, v := range s.shadow.vars {
		if v.obj == obj && v.id == id {
			return i
		}
	}
	return -1
}

// ShadowGet is klp_shadow_get: the variable's address, or 0.
func (s *Sim) ShadowGet(obj, id uint64) uint64 {
	if i := s.shadowFind(obj, id); i >= 0 {
		return s.shadow.vars[i].data
	}
	return 0
}

// ShadowValue reads what a constructor stored in a shadow variable.
func (s *Sim) ShadowValue(data uint64) uint64 {
	for _, v := range s.shadow.vars {
		if v.data == data {
			return v.value
		}
	}
	return 0
}

// ShadowSet stores a value in a shadow variable (what a constructor's
// *sv = … does).
func (s *Sim) ShadowSet(data, value uint64) {
	vars := append([]shadowVar(nil), s.shadow.vars...)
	for i := range vars {
		if vars[i].data == data {
			vars[i].value = value
		}
	}
	s.shadow.vars = vars
}

// ShadowAlloc is klp_shadow_alloc: a duplicate <obj, id> WARNs and
// returns 0.
func (s *Sim) ShadowAlloc(obj, id uint64, ctor ShadowCtor) uint64 {
	return s.shadowGetOrAlloc(obj, id, ctor, true)
}

// ShadowGetOrAlloc is klp_shadow_get_or_alloc: the existing variable, or a
// new one.
func (s *Sim) ShadowGetOrAlloc(obj, id uint64, ctor ShadowCtor) uint64 {
	return s.shadowGetOrAlloc(obj, id, ctor, false)
}

func (s *Sim) shadowGetOrAlloc(obj, id uint64, ctor ShadowCtor, warnOnExist bool) uint64 {
	if i := s.shadowFind(obj, id); i >= 0 {
		if warnOnExist {
			s.printk(LevelWarn, "Duplicate shadow variable <%016x, %x>", obj, id)
			s.eventf(Event{Kind: EvWarning}, "klp_shadow_alloc: duplicate shadow variable <%#x, %#x>", obj, id)
			return 0
		}
		return s.shadow.vars[i].data
	}
	data := shadowBase + s.shadow.next*0x40
	s.shadow.next++
	s.shadow.vars = append(append([]shadowVar(nil), s.shadow.vars...), shadowVar{obj: obj, id: id, data: data})
	if ctor != nil {
		if err := ctor(obj, data); err != 0 {
			s.printk(LevelErr, "livepatch: Failed to construct shadow variable <%016x, %x> (%d)", obj, id, -int(err))
			s.shadowDrop(obj, id)
			return 0
		}
	}
	return data
}

func (s *Sim) shadowDrop(obj, id uint64) {
	var vars []shadowVar
	for _, v := range s.shadow.vars {
		if v.obj != obj || v.id != id {
			vars = append(vars, v)
		}
	}
	s.shadow.vars = vars
}

// ShadowFree is klp_shadow_free: detach and free <obj, id>, calling dtor
// first.
func (s *Sim) ShadowFree(obj, id uint64, dtor ShadowDtor) {
	if i := s.shadowFind(obj, id); i >= 0 {
		if dtor != nil {
			dtor(obj, s.shadow.vars[i].data)
		}
		s.shadowDrop(obj, id)
	}
}

// ShadowFreeAll is klp_shadow_free_all: every variable with this id.
func (s *Sim) ShadowFreeAll(id uint64, dtor ShadowDtor) {
	var keep []shadowVar
	for _, v := range s.shadow.vars {
		if v.id == id {
			if dtor != nil {
				dtor(v.obj, v.data)
			}
			continue
		}
		keep = append(keep, v)
	}
	s.shadow.vars = keep
}
