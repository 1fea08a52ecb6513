//go:build !amd64

package uniq

import "unsafe"

// prefetch is a hint that this architecture's build does not give.
func prefetch(addr uintptr) {}

func storeLine(dst, src unsafe.Pointer) { *(*[8]uint64)(dst) = *(*[8]uint64)(src) }

func storeFence() {}
