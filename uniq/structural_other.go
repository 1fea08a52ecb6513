//go:build !amd64

package uniq

const hasAVX2 = false

func structuralAVX2(data *byte, blocks int, delim, quote byte, masks *blockMasks) {
	panic("unreachable")
}
