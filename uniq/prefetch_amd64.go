package uniq

// prefetch asks the CPU to bring the cache line at addr into the cache
// without waiting for it (PREFETCHT0): a hint, so any address is safe.
//
//go:noescape
func prefetch(addr uintptr)
