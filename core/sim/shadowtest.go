package sim

// Module programs: test modules whose init is a fixed program rather than
// log lines (ModuleSpec.Program).
var modulePrograms = map[string]func(s *Sim, mod string) Errno{
	"test_klp_shadow_vars":    shadowVarsProgram,
	"test_klp_callbacks_busy": busyProgram,
}

// moduleExitPrograms run first in a module's exit, before the kernel
// checks that none of its code is still running.
var moduleExitPrograms = map[string]func(s *Sim, mod string){
	"test_klp_callbacks_busy": busyExit,
}

// ModulePrograms lists the programs a module declaration may name.
func ModulePrograms() []string {
	return []string{"test_klp_callbacks_busy", "test_klp_shadow_vars"}
}

// shadowVarsProgram is test_klp_shadow_vars' init: it exercises the shadow
// variable API on three objects and logs every call, naming pointers
// PTR<n> in the order it first sees them (ptr_id()), NULL being PTR0.
func shadowVarsProgram(s *Sim, mod string) Errno {
	ids := map[uint64]int{}
	ptr := func(p uint64) int {
		if id, ok := ids[p]; ok {
			return id
		}
		ids[p] = len(ids)
		return ids[p]
	}
	info := func(format string, a ...any) { s.printk(LevelInfo, mod+": "+format, a...) }
	const (
		nobjs = 3
		id1   = 0x1234
		id2   = 0x1235
		// Simulated addresses: the objects and fields live on the init
		// function's stack, the callbacks in the module's text.
		stack    = 0xffffc90000a3fd00
		ctorAddr = 0xffffffffc0a01000
		dtorAddr = 0xffffffffc0a01080
	)
	objs := func(i int) uint64 { return stack + uint64(i)*0x10 }
	nfields1 := func(i int) uint64 { return stack + 0x40 + uint64(i) }
	nfields2 := func(i int) uint64 { return stack + 0x50 + uint64(i)*4 }
	ctor := func(data uint64) ShadowCtor {
		return func(obj, sv uint64) Errno {
			s.ShadowSet(sv, data)
			info("shadow_ctor: PTR%d -> PTR%d", ptr(sv), ptr(data))
			return 0
		}
	}
	dtor := func(obj, sv uint64) { info("shadow_dtor(obj=PTR%d, shadow_data=PTR%d)", ptr(obj), ptr(sv)) }
	get := func(obj, id uint64) uint64 {
		sv := s.ShadowGet(obj, id)
		info("klp_shadow_get(obj=PTR%d, id=0x%x) = PTR%d", ptr(obj), id, ptr(sv))
		return sv
	}
	alloc := func(name string, obj, id, data uint64) uint64 {
		var sv uint64
		if name == "shadow_alloc" {
			sv = s.ShadowAlloc(obj, id, ctor(data))
		} else {
			sv = s.ShadowGetOrAlloc(obj, id, ctor(data))
		}
		info("klp_%s(obj=PTR%d, id=0x%x, size=8, gfp_flags=GFP_KERNEL), ctor=PTR%d, ctor_data=PTR%d = PTR%d", name, ptr(obj), id, ptr(ctorAddr), ptr(data), ptr(sv))
		return sv
	}
	expected := func(sv, want uint64) {
		if s.ShadowValue(sv) == want {
			info("  got expected PTR%d -> PTR%d result", ptr(sv), ptr(want))
		}
	}
	var sv1, sv2 [nobjs]uint64

	ptr(0)
	if get(objs(0), id1) == 0 {
		info("  got expected NULL result")
	}
	// pass 1: a char and an int shadow variable for each object
	for i := 0; i < nobjs; i++ {
		ptr(nfields1(i))
		if i%2 == 1 {
			sv1[i] = alloc("shadow_alloc", objs(i), id1, nfields1(i))
		} else {
			sv1[i] = alloc("shadow_get_or_alloc", objs(i), id1, nfields1(i))
		}
		if sv1[i] == 0 {
			return shadowVarsOut(s, ENOMEM)
		}
		ptr(nfields2(i))
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
		ptr(nfields1(i))
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
		s.ShadowFree(objs(i), id1, dtor)
		info("klp_shadow_free(obj=PTR%d, id=0x%x, dtor=PTR%d)", ptr(objs(i)), id1, ptr(dtorAddr))
		if get(objs(i), id1) == 0 {
			info("  got expected NULL result")
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
	info("klp_shadow_free_all(id=0x%x, dtor=PTR%d)", id2, ptr(0))
	for i := 0; i < nobjs; i++ {
		if get(objs(i), id2) == 0 {
			info("  got expected NULL result")
		}
	}
	return 0
}

// shadowVarsOut is the init's error path: free everything, fail the load.
func shadowVarsOut(s *Sim, err Errno) Errno {
	s.ShadowFreeAll(0x1234, nil)
	s.ShadowFreeAll(0x1235, nil)
	return err
}
