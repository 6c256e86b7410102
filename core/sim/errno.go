package sim

import (
	"fmt"
	"strconv"
)

// Errno is a kernel error number. The simulator returns the same codes the
// kernel returns so that the shell can print what a real shell prints.
type Errno int

// The error numbers the livepatch paths can return (asm-generic/errno-base.h
// and errno.h values).
const (
	EPERM       Errno = 1
	ENOENT      Errno = 2
	ESRCH       Errno = 3
	EINTR       Errno = 4
	ENOEXEC     Errno = 8
	EAGAIN      Errno = 11
	ENOMEM      Errno = 12
	EACCES      Errno = 13
	EBUSY       Errno = 16
	EEXIST      Errno = 17
	ENODEV      Errno = 19
	ENOTDIR     Errno = 20
	EISDIR      Errno = 21
	EINVAL      Errno = 22
	ENOSYS      Errno = 38
	EOPNOTSUPP  Errno = 95
	EADDRINUSE  Errno = 98
	ERESTARTSYS Errno = 512
)

var errnoNames = map[Errno][2]string{
	EPERM:       {"EPERM", "Operation not permitted"},
	ENOENT:      {"ENOENT", "No such file or directory"},
	ESRCH:       {"ESRCH", "No such process"},
	EINTR:       {"EINTR", "Interrupted system call"},
	ENOEXEC:     {"ENOEXEC", "Exec format error"},
	EAGAIN:      {"EAGAIN", "Resource temporarily unavailable"},
	ENOMEM:      {"ENOMEM", "Cannot allocate memory"},
	EACCES:      {"EACCES", "Permission denied"},
	EBUSY:       {"EBUSY", "Device or resource busy"},
	EEXIST:      {"EEXIST", "File exists"},
	ENODEV:      {"ENODEV", "No such device"},
	ENOTDIR:     {"ENOTDIR", "Not a directory"},
	EISDIR:      {"EISDIR", "Is a directory"},
	EINVAL:      {"EINVAL", "Invalid argument"},
	ENOSYS:      {"ENOSYS", "Function not implemented"},
	EOPNOTSUPP:  {"EOPNOTSUPP", "Operation not supported"},
	EADDRINUSE:  {"EADDRINUSE", "Address already in use"},
	ERESTARTSYS: {"ERESTARTSYS", "Unknown error 512"},
}

// Error returns the C library's strerror text, which is what shells print.
func (e Errno) Error() string {
	if n, ok := errnoNames[e]; ok {
		return n[1]
	}
	return fmt.Sprintf("Unknown error %d", int(e))
}

// Name returns the symbolic name, e.g. "EINVAL".
func (e Errno) Name() string {
	if n, ok := errnoNames[e]; ok {
		return n[0]
	}
	return fmt.Sprintf("E%d", int(e))
}

// ParseErrno accepts a symbolic name ("EBUSY"), a positive or negative
// number, or "0".
func ParseErrno(s string) (Errno, bool) {
	for e, n := range errnoNames {
		if n[0] == s {
			return e, true
		}
	}
	// strconv, not fmt.Sscanf: the scanner would add ~28 KB to the wasm.
	if v, err := strconv.Atoi(s); err == nil && strconv.Itoa(v) == s {
		if v < 0 {
			v = -v
		}
		return Errno(v), true
	}
	return 0, false
}
