package sim

import "fmt"

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
	// aliases lists, per object, the alias names it added (so that a
	// module's unload forgets them with its code).
	aliases map[string][]string
	// files are the /proc and /sys files code produces (produce.go);
	// only ever appended, so clones share them.
	files []ProducedFile
	// shared: a Clone shares the maps with its source until either
	// changes them (own copies them then); explore clones a machine at
	// every state and almost never declares or drops code in between.
	shared bool
}

// own makes the maps the machine's own before a change.
func (t *symtab) own() {
	if t.shared {
		*t = t.clone()
	}
}

// share returns a copy sharing the maps, which both then copy before
// changing them.
func (t *symtab) share() symtab {
	t.shared = true
	c := *t
	c.files = t.files[:len(t.files):len(t.files)]
	return c
}

func symKey(obj, name string) string { return obj + "\x00" + name }

// add records code id (which must be live).
func (t *symtab) add(c *Code, id CodeID) { t.addName(c.Obj, c.Name, id) }

// addName records name as a symbol of obj at code id's address.
func (t *symtab) addName(obj, name string, id CodeID) {
	t.own()
	if t.byKey == nil {
		t.byKey, t.objs = map[string][]CodeID{}, map[string][]string{}
	}
	k := symKey(obj, name)
	if len(t.byKey[k]) == 0 {
		t.objs[name] = append(t.objs[name], obj)
	}
	t.byKey[k] = append(t.byKey[k], id)
}

// addAlias records name as a second symbol of code id in obj.
func (t *symtab) addAlias(obj, name string, id CodeID) {
	t.addName(obj, name, id) // owns t
	if t.aliases == nil {
		t.aliases = map[string][]string{}
	}
	t.aliases[obj] = append(t.aliases[obj], name)
}

// dropAliases forgets the alias names obj added.
func (t *symtab) dropAliases(obj string) {
	t.own()
	for _, n := range t.aliases[obj] {
		t.dropObj(obj, n)
	}
	delete(t.aliases, obj)
}

// checkFuncDecls checks an object's declarations: each function's name
// and size, and that an alias names a function declared before it (in
// this list or, for vmlinux, earlier).
func (s *Sim) checkFuncDecls(obj string, fs []FuncDecl) error {
	seen := map[string]bool{}
	for _, f := range fs {
		if f.AliasOf == "" {
			if err := checkFuncDecl(f); err != nil {
				return err
			}
			seen[f.Name] = true
			continue
		}
		if f.Name == "" || f.Name == f.AliasOf {
			return fmt.Errorf("alias %q of %s: give it a name of its own", f.Name, f.AliasOf)
		}
		if !seen[f.AliasOf] && (obj != "vmlinux" || len(s.syms.ids(obj, f.AliasOf)) == 0) {
			return fmt.Errorf("alias %s: no function %s declared before it", f.Name, f.AliasOf)
		}
		seen[f.Name] = true
	}
	return nil
}

// addFuncs lays out an object's functions from addr and returns the end.
// An alias takes the address of the last function of its target's name
// declared so far. ids, if not nil, collects the new code.
func (s *Sim) addFuncs(obj string, addr uint64, fs []FuncDecl, ids *[]CodeID) uint64 {
	for _, f := range fs {
		if f.AliasOf != "" {
			t := s.syms.ids(obj, f.AliasOf)
			s.syms.addAlias(obj, f.Name, t[len(t)-1])
			continue
		}
		id := s.addCode(Code{Addr: addr, Size: f.Size, Name: f.Name, Obj: obj})
		if ids != nil {
			*ids = append(*ids, id)
		}
		addr += align16(f.Size)
	}
	return addr
}

// dropObj forgets every function of obj named name: a module's code all
// has the module as its object and goes at once.
func (t *symtab) dropObj(obj, name string) {
	k := symKey(obj, name)
	if _, ok := t.byKey[k]; !ok {
		return
	}
	t.own()
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
	if t.patchFuncs != nil {
		c.patchFuncs, c.patchFuncsN = make(map[string]bool, len(t.patchFuncs)), t.patchFuncsN
		for k := range t.patchFuncs {
			c.patchFuncs[k] = true
		}
	}
	if len(t.aliases) > 0 {
		c.aliases = make(map[string][]string, len(t.aliases))
		for k, v := range t.aliases {
			c.aliases[k] = append([]string(nil), v...)
		}
	}
	for k, v := range t.byKey {
		c.byKey[k] = append([]CodeID(nil), v...)
	}
	for k, v := range t.objs {
		c.objs[k] = append([]string(nil), v...)
	}
	c.files = t.files[:len(t.files):len(t.files)]
	return c
}

// isPatchTarget reports whether any patch, in any state, replaces the
// function c (by object and name).
func (s *Sim) isPatchTarget(c *Code) bool {
	s.buildPatchTargets()
	return s.syms.patchFuncs[symKey(c.Obj, c.Name)]
}

// buildPatchTargets brings the lazy set of patched functions up to date.
func (s *Sim) buildPatchTargets() {
	t := &s.syms
	if t.patchFuncs == nil || t.patchFuncsN != len(s.patches) {
		t.own()
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
}
