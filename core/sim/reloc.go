package sim

import (
	"strconv"
	"strings"
)

// Livepatch relocations. A patch module that refers to symbols it cannot
// link against (static functions and data of vmlinux or of a module)
// carries SHF_RELA_LIVEPATCH sections named .klp.rela.<obj>.<section>
// whose symbols are named .klp.sym.<obj>.<name>,<sympos> and marked
// SHN_LIVEPATCH. The kernel resolves them when <obj> is there: since 5.8
// vmlinux's when the patch module loads (load_module's relocations) and a
// module's in klp_init_object_loaded; before 5.8 every object's in
// klp_init_object_loaded. Only the checks and their messages are
// modelled: nothing is written.

// RelocSpec is one relocation of a patch module: the section it is in and
// the symbol it refers to.
type RelocSpec struct {
	Section string // .klp.rela.vmlinux.text
	Symbol  string // .klp.sym.vmlinux.saved_command_line,0
	// Unmarked: the symbol is not SHN_LIVEPATCH (a broken build).
	Unmarked bool
}

// RelocsAtLoad: vmlinux's klp relocations are written when the patch
// module loads, and module-specific sections may not refer to vmlinux
// ("livepatch: Apply vmlinux-specific KLP relocations early", v5.8).
func (p Profile) RelocsAtLoad() bool { return p.at(5, 8) }

// ksymNameMax is KSYM_NAME_LEN-1, the width of the symbol name field the
// kernel scans (128 bytes before 6.1, 512 since).
func (p Profile) ksymNameMax() int {
	if p.at(6, 1) {
		return 511
	}
	return 127
}

// scanField is sscanf's %N[^stop]: one to n bytes up to stop.
func scanField(s string, n int, stop byte) (field, rest string, ok bool) {
	i := 0
	for i < len(s) && i < n && s[i] != stop {
		i++
	}
	return s[:i], s[i:], i > 0
}

// relaObject parses ".klp.rela.%55[^.]".
func relaObject(sec string) (string, bool) {
	rest, ok := strings.CutPrefix(sec, ".klp.rela.")
	if !ok {
		return "", false
	}
	obj, _, ok := scanField(rest, 55, '.')
	return obj, ok
}

// klpSym parses ".klp.sym.%55[^.].%N[^,],%lu" (all three fields, as the
// kernel requires; %lu takes a sign and wraps a negative number).
func klpSym(name string, max int) (obj, sym string, pos uint64, ok bool) {
	rest, ok := strings.CutPrefix(name, ".klp.sym.")
	if !ok {
		return "", "", 0, false
	}
	if obj, rest, ok = scanField(rest, 55, '.'); !ok || !strings.HasPrefix(rest, ".") {
		return "", "", 0, false
	}
	if sym, rest, ok = scanField(rest[1:], max, ','); !ok || !strings.HasPrefix(rest, ",") {
		return "", "", 0, false
	}
	num := strings.TrimLeft(rest[1:], " \t\n\v\f\r")
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(strings.TrimPrefix(num, "-"), "+")
	end := 0
	for end < len(num) && num[end] >= '0' && num[end] <= '9' {
		end++
	}
	if end == 0 {
		return "", "", 0, false
	}
	pos, err := strconv.ParseUint(num[:end], 10, 64)
	if err != nil {
		pos = ^uint64(0) // strtoul saturates
	}
	if neg {
		pos = -pos
	}
	return obj, sym, pos, true
}

// applyRelocs resolves the patch module's klp relocation sections that
// belong to object obj (klp_apply_section_relocs / the older
// klp_write_object_relocations), in section order, printing the kernel's
// error for the first that fails.
func (s *Sim) applyRelocs(spec *PatchSpec, obj string) error {
	var secs []string
	bySec := map[string][]RelocSpec{}
	for _, r := range spec.Relocs {
		if _, seen := bySec[r.Section]; !seen {
			secs = append(secs, r.Section)
		}
		bySec[r.Section] = append(bySec[r.Section], r)
	}
	for _, sec := range secs {
		secObj, ok := relaObject(sec)
		if !ok {
			s.klp(LevelErr, "section %s has an incorrectly formatted name", sec)
			return EINVAL
		}
		if secObj != obj {
			continue
		}
		for _, r := range bySec[sec] {
			if err := s.resolveKlpSym(r, secObj); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveKlpSym is one symbol of klp_resolve_symbols.
func (s *Sim) resolveKlpSym(r RelocSpec, secObj string) error {
	if r.Unmarked {
		s.klp(LevelErr, "symbol %s is not marked as a livepatch symbol", r.Symbol)
		return EINVAL
	}
	symObj, name, pos, ok := klpSym(r.Symbol, s.prof.ksymNameMax())
	if !ok {
		s.klp(LevelErr, "symbol %s has an incorrectly formatted name", r.Symbol)
		return EINVAL
	}
	if s.prof.RelocsAtLoad() && secObj != "vmlinux" && symObj == "vmlinux" {
		s.klp(LevelErr, "invalid access to vmlinux symbol '%s' from module-specific livepatch relocation section", name)
		return EINVAL
	}
	_, err := s.findObjectSymbol(symObj, name, pos)
	return err
}

// findObjectSymbol is klp_find_object_symbol: obj "vmlinux" stands for
// the kernel's NULL object name (printed "(null)" in the ambiguity
// message). The count is of the object's symbols of that name, aliases
// included, patch modules' replacement functions not.
func (s *Sim) findObjectSymbol(obj, name string, sympos uint64) (CodeID, error) {
	var found []CodeID
	for _, id := range s.syms.ids(obj, name) {
		if s.code[id].ForPatch == "" {
			found = append(found, id)
		}
	}
	switch {
	case len(found) == 0:
		s.klp(LevelErr, "symbol '%s' not found in symbol table", name)
	case len(found) > 1 && sympos == 0:
		shown := obj
		if obj == "vmlinux" {
			shown = "(null)"
		}
		s.klp(LevelErr, "unresolvable ambiguity for symbol '%s' in object '%s'", name, shown)
	case sympos > 0 && sympos > uint64(len(found)):
		s.klp(LevelErr, "symbol position %d for symbol '%s' in object '%s' not found", sympos, name, obj)
	case sympos == 0:
		return found[0], nil
	default:
		return found[sympos-1], nil
	}
	return NoCode, EINVAL
}
