//go:build !amd64

package uniq

// prefetch is a hint that this architecture's build does not give.
func prefetch(addr uintptr) {}
