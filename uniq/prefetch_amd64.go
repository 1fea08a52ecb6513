package uniq

import "unsafe"

// prefetch asks the CPU to bring the cache line at addr into the cache
// without waiting for it (PREFETCHT0): a hint, so any address is safe.
//
//go:noescape
func prefetch(addr uintptr)

// storeLine writes the 64-byte line at src to dst, which is 64-byte
// aligned, without reading dst's line into the cache (non-temporal
// stores). storeFence must run before another core reads dst.
//
//go:noescape
func storeLine(dst, src unsafe.Pointer)

// storeFence orders the non-temporal stores before it before any later store.
func storeFence()
