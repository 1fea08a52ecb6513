package uniq

import (
	"runtime/debug"

	"github.com/hotpath/hotpath"
)

// errFileChanged is what a memory fault while reading a mapped input
// becomes: the file shrank (or its storage failed) while it was counted,
// and the pages of the mapping past its new end are gone.
var errFileChanged = hotpath.Errorf(hotpath.EINVALID, "an input file changed while it was counted (truncated?)")

// catchFault makes a memory fault in the calling goroutine a panic, and the
// function it returns, deferred, turns that panic into errFileChanged in
// *errp (other panics go on). Every goroutine that reads a mapped input
// runs under it: without it, a file truncated under its mapping crashes the
// process with SIGBUS.
//
//	defer catchFault(&err)()
func catchFault(errp *error) func() {
	old := debug.SetPanicOnFault(true)
	return func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			if *errp == nil {
				*errp = errFileChanged
			}
		}
	}
}
