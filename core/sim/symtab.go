package sim

// symtab indexes the live entries of the code table by object and name, so
// that declaring, resolving and looking up a function costs the same with
// 100,000 functions as with ten (a scan of the table per function made a
// large vmlinux or livepatch quadratic).
type symtab struct {
	// byKey maps object+"\x00"+name to its live code, in table order
	// (so the position in the list is the sympos).
	byKey map[string][]CodeID
	// objs maps a name to the objects that have live code of that name,
	// in the order they first got it.
	objs map[string][]string
	// patchFuncs holds object+"\x00"+name of every function any patch
	// replaces, built from the first patchFuncsN patches (patches are
	// only ever appended, with their functions).
	patchFuncs  map[string]bool
	patchFuncsN int
	vmlinuxEnd  uint64 // the end of the last vmlinux function
}

func symKey(obj, name string) string { return obj + "\x00" + name }

// add records code id (which must be live).
func (t *symtab) add(c *Code, id CodeID) {
	if t.byKey == nil {
		t.byKey, t.objs = map[string][]CodeID{}, map[string][]string{}
	}
	k := symKey(c.Obj, c.Name)
	if len(t.byKey[k]) == 0 {
		t.objs[c.Name] = append(t.objs[c.Name], c.Obj)
	}
	t.byKey[k] = append(t.byKey[k], id)
}

// dropObj forgets every function of obj named name: a module's code all
// has the module as its object and goes at once.
func (t *symtab) dropObj(obj, name string) {
	k := symKey(obj, name)
	if _, ok := t.byKey[k]; !ok {
		return
	}
	delete(t.byKey, k)
	os := t.objs[name]
	for i, o := range os {
		if o == obj {
			os = append(os[:i:i], os[i+1:]...)
			break
		}
	}
	if len(os) == 0 {
		delete(t.objs, name)
	} else {
		t.objs[name] = os
	}
}

// ids returns the live code of obj named name, in table order.
func (t *symtab) ids(obj, name string) []CodeID { return t.byKey[symKey(obj, name)] }

// clone copies the index; the lists are copied so appends never share.
func (t *symtab) clone() symtab {
	c := symtab{byKey: make(map[string][]CodeID, len(t.byKey)), objs: make(map[string][]string, len(t.objs)), vmlinuxEnd: t.vmlinuxEnd}
	for k, v := range t.byKey {
		c.byKey[k] = append([]CodeID(nil), v...)
	}
	for k, v := range t.objs {
		c.objs[k] = append([]string(nil), v...)
	}
	return c // patchFuncs is rebuilt on demand
}

// isPatchTarget reports whether any patch, in any state, replaces the
// function c (by object and name).
func (s *Sim) isPatchTarget(c *Code) bool {
	t := &s.syms
	if t.patchFuncs == nil || t.patchFuncsN != len(s.patches) {
		if t.patchFuncs == nil || t.patchFuncsN > len(s.patches) {
			t.patchFuncs, t.patchFuncsN = map[string]bool{}, 0
		}
		for _, p := range s.patches[t.patchFuncsN:] {
			for _, o := range p.Objs {
				for _, f := range o.Funcs {
					t.patchFuncs[symKey(o.Name, f.Old)] = true
				}
			}
		}
		t.patchFuncsN = len(s.patches)
	}
	return t.patchFuncs[symKey(c.Obj, c.Name)]
}
