package sim

// Module programs: test modules whose init is a fixed program rather than
// log lines (ModuleSpec.Program).
var modulePrograms = map[string]func(s *Sim, mod string) Errno{
	"test_klp_shadow_vars":      shadowVarsProgram,
	"test_klp_shadow_vars-v5.1": shadowVarsV51Program,
	"test_klp_callbacks_busy":   busyProgram,
}

// moduleExitPrograms run first in a module's exit, before the kernel
// checks that none of its code is still running.
var moduleExitPrograms = map[string]func(s *Sim, mod string){
	"test_klp_callbacks_busy": busyExit,
}

// ModulePrograms lists the programs a module declaration may name.
func ModulePrograms() []string {
	return []string{"test_klp_callbacks_busy", "test_klp_shadow_vars", "test_klp_shadow_vars-v5.1"}
}

// shadowLog is what test_klp_shadow_vars' wrappers share: every call
// logged with pointers named PTR<n> in the order the module first sees
// them (ptr_id()), NULL being PTR0.
type shadowLog struct {
	s   *Sim
	mod string
	ids map[uint64]int
}

const (
	// Simulated addresses: the module's variables live on the init
	// function's stack, the callbacks in the module's text.
	shadowStack    = 0xffffc90000a3fd00
	shadowCtorAddr = 0xffffffffc0a01000
	shadowDtorAddr = 0xffffffffc0a01080
	// THIS_MODULE, the object of the module before v5.9.
	shadowModAddr = 0xffffffffc0a03000
)

func newShadowLog(s *Sim, mod string) *shadowLog {
	l := &shadowLog{s: s, mod: mod, ids: map[uint64]int{}}
	l.ptr(0)
	return l
}

func (l *shadowLog) ptr(p uint64) int {
	if id, ok := l.ids[p]; ok {
		return id
	}
	l.ids[p] = len(l.ids)
	return l.ids[p]
}

func (l *shadowLog) info(format string, a ...any) {
	l.s.printk(LevelInfo, l.mod+": "+format, a...)
}

// ctor is shadow_ctor: the shadow variable points at data.
func (l *shadowLog) ctor(data uint64) ShadowCtor {
	return func(obj, sv uint64) Errno {
		l.s.ShadowSet(sv, data)
		l.info("shadow_ctor: PTR%d -> PTR%d", l.ptr(sv), l.ptr(data))
		return 0
	}
}

func (l *shadowLog) dtor(obj, sv uint64) {
	l.info("shadow_dtor(obj=PTR%d, shadow_data=PTR%d)", l.ptr(obj), l.ptr(sv))
}

func (l *shadowLog) get(obj, id uint64) uint64 {
	sv := l.s.ShadowGet(obj, id)
	l.info("klp_shadow_get(obj=PTR%d, id=0x%x) = PTR%d", l.ptr(obj), id, l.ptr(sv))
	return sv
}

// alloc is klp_shadow_alloc or (name "shadow_get_or_alloc")
// klp_shadow_get_or_alloc of an 8-byte variable.
func (l *shadowLog) alloc(name string, obj, id, data uint64) uint64 {
	var sv uint64
	if name == "shadow_alloc" {
		sv = l.s.ShadowAlloc(obj, id, l.ctor(data))
	} else {
		sv = l.s.ShadowGetOrAlloc(obj, id, l.ctor(data))
	}
	l.info("klp_%s(obj=PTR%d, id=0x%x, size=8, gfp_flags=GFP_KERNEL), ctor=PTR%d, ctor_data=PTR%d = PTR%d", name, l.ptr(obj), id, l.ptr(shadowCtorAddr), l.ptr(data), l.ptr(sv))
	return sv
}

func (l *shadowLog) free(obj, id uint64) {
	l.s.ShadowFree(obj, id, l.dtor)
	l.info("klp_shadow_free(obj=PTR%d, id=0x%x, dtor=PTR%d)", l.ptr(obj), id, l.ptr(shadowDtorAddr))
}

// expected logs the check that a shadow variable points where its
// constructor said.
func (l *shadowLog) expected(sv, want uint64) {
	if l.s.ShadowValue(sv) == want {
		l.info("  got expected PTR%d -> PTR%d result", l.ptr(sv), l.ptr(want))
	}
}

// shadowVarsProgram is test_klp_shadow_vars' init since v5.9: it exercises
// the shadow variable API on three objects and logs every call.
func shadowVarsProgram(s *Sim, mod string) Errno {
	l := newShadowLog(s, mod)
	const (
		nobjs = 3
		id1   = 0x1234
		id2   = 0x1235
	)
	objs := func(i int) uint64 { return shadowStack + uint64(i)*0x10 }
	nfields1 := func(i int) uint64 { return shadowStack + 0x40 + uint64(i) }
	nfields2 := func(i int) uint64 { return shadowStack + 0x50 + uint64(i)*4 }
	get, alloc, expected := l.get, l.alloc, l.expected
	var sv1, sv2 [nobjs]uint64

	if get(objs(0), id1) == 0 {
		l.info("  got expected NULL result")
	}
	// pass 1: a char and an int shadow variable for each object
	for i := 0; i < nobjs; i++ {
		l.ptr(nfields1(i))
		if i%2 == 1 {
			sv1[i] = alloc("shadow_alloc", objs(i), id1, nfields1(i))
		} else {
			sv1[i] = alloc("shadow_get_or_alloc", objs(i), id1, nfields1(i))
		}
		if sv1[i] == 0 {
			return shadowVarsOut(s, ENOMEM)
		}
		l.ptr(nfields2(i))
		if sv2[i] = alloc("shadow_alloc", objs(i), id2, nfields2(i)); sv2[i] == 0 {
			return shadowVarsOut(s, ENOMEM)
		}
	}
	// pass 2: they are found, and point where the constructor said
	for i := 0; i < nobjs; i++ {
		sv := get(objs(i), id1)
		if sv == 0 {
			return shadowVarsOut(s, EINVAL)
		}
		if sv == sv1[i] {
			expected(sv1[i], nfields1(i))
		}
		if sv = get(objs(i), id2); sv == 0 {
			return shadowVarsOut(s, EINVAL)
		}
		if sv == sv2[i] {
			expected(sv2[i], nfields2(i))
		}
	}
	// pass 3: get_or_alloc returns the existing ones
	for i := 0; i < nobjs; i++ {
		l.ptr(nfields1(i))
		sv := alloc("shadow_get_or_alloc", objs(i), id1, nfields1(i))
		if sv == 0 {
			return shadowVarsOut(s, EINVAL)
		}
		if sv == sv1[i] {
			expected(sv1[i], nfields1(i))
		}
	}
	// pass 4: free the char ones
	for i := 0; i < nobjs; i++ {
		l.free(objs(i), id1)
		if get(objs(i), id1) == 0 {
			l.info("  got expected NULL result")
		}
	}
	// pass 5: the int ones are still there
	for i := 0; i < nobjs; i++ {
		sv := get(objs(i), id2)
		if sv == 0 {
			return shadowVarsOut(s, EINVAL)
		}
		if sv == sv2[i] {
			expected(sv2[i], nfields2(i))
		}
	}
	// pass 6: free all the int ones (no destructor: the order of several
	// frees is not determined)
	s.ShadowFreeAll(id2, nil)
	l.info("klp_shadow_free_all(id=0x%x, dtor=PTR%d)", id2, l.ptr(0))
	for i := 0; i < nobjs; i++ {
		if get(objs(i), id2) == 0 {
			l.info("  got expected NULL result")
		}
	}
	return 0
}

// shadowVarsV51Program is test_klp_shadow_vars' init as v5.1–v5.8 shipped
// it: four variables on its stack, shadow variables of THIS_MODULE and of
// the two bytes after it, and an init that returns early on a failure
// without freeing what it allocated.
func shadowVarsV51Program(s *Sim, mod string) Errno {
	l := newShadowLog(s, mod)
	const id = 0x1234
	obj := uint64(shadowModAddr)
	vars := func(i int) uint64 { return shadowStack + uint64(i)*4 }
	for i := 1; i <= 4; i++ {
		l.ptr(vars(i))
	}
	get, alloc, expected := l.get, l.alloc, l.expected

	if get(obj, id) == 0 {
		l.info("  got expected NULL result")
	}
	sv1 := alloc("shadow_alloc", obj, id, vars(1))
	if sv1 == 0 {
		return ENOMEM
	}
	sv2 := alloc("shadow_alloc", obj+1, id, vars(2))
	if sv2 == 0 {
		return ENOMEM
	}
	sv3 := alloc("shadow_alloc", obj, id+1, vars(3))
	if sv3 == 0 {
		return ENOMEM
	}
	for _, c := range []struct{ obj, id, sv, want uint64 }{
		{obj, id, sv1, vars(1)}, {obj + 1, id, sv2, vars(2)}, {obj, id + 1, sv3, vars(3)},
	} {
		sv := get(c.obj, c.id)
		if sv == 0 {
			return EINVAL
		}
		if sv == c.sv {
			expected(c.sv, c.want)
		}
	}
	sv4 := alloc("shadow_get_or_alloc", obj+2, id, vars(4))
	if sv4 == 0 {
		return ENOMEM
	}
	sv := alloc("shadow_get_or_alloc", obj+2, id, vars(4))
	if sv == 0 {
		return EINVAL
	}
	if sv == sv4 {
		expected(sv4, vars(4))
	}
	for _, o := range []uint64{obj, obj + 1, obj + 2} {
		l.free(o, id)
		if get(o, id) == 0 {
			l.info("  got expected NULL result")
		}
	}
	if sv = get(obj, id+1); sv == 0 {
		return EINVAL
	}
	if sv == sv3 {
		expected(sv3, vars(3))
	}
	s.ShadowFreeAll(id+1, l.dtor)
	l.info("klp_shadow_free_all(id=0x%x, dtor=PTR%d)", id+1, l.ptr(shadowDtorAddr))
	if get(obj, id) == 0 {
		l.info("  shadow_get() got expected NULL result")
	}
	return 0
}

// shadowVarsOut is the init's error path: free everything, fail the load.
func shadowVarsOut(s *Sim, err Errno) Errno {
	s.ShadowFreeAll(0x1234, nil)
	s.ShadowFreeAll(0x1235, nil)
	return err
}
