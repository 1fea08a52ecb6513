package uniq

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

// structuralAVX2 writes the masks of blocks 64-byte blocks of data (see
// structuralMasks).
//
//go:noescape
func structuralAVX2(data *byte, blocks int, delim, quote byte, masks *blockMasks)
