#include "textflag.h"

// func structuralAVX2(data *byte, blocks int, delim byte, masks *uint64)
TEXT ·structuralAVX2(SB), NOSPLIT, $0-32
	MOVQ    data+0(FP), SI
	MOVQ    blocks+8(FP), CX
	MOVBQZX delim+16(FP), AX
	MOVQ    masks+24(FP), DI
	MOVQ    AX, X0
	VPBROADCASTB X0, Y0        // delim
	MOVQ    $0x0a, AX
	MOVQ    AX, X1
	VPBROADCASTB X1, Y1        // '\n'
	MOVQ    $0x22, AX
	MOVQ    AX, X2
	VPBROADCASTB X2, Y2        // '"'

loop:
	VMOVDQU (SI), Y3
	VMOVDQU 32(SI), Y4
	VPCMPEQB Y3, Y0, Y5
	VPCMPEQB Y3, Y1, Y6
	VPOR     Y5, Y6, Y5
	VPCMPEQB Y3, Y2, Y6
	VPOR     Y5, Y6, Y5
	VPCMPEQB Y4, Y0, Y7
	VPCMPEQB Y4, Y1, Y8
	VPOR     Y7, Y8, Y7
	VPCMPEQB Y4, Y2, Y8
	VPOR     Y7, Y8, Y7
	VPMOVMSKB Y5, AX
	VPMOVMSKB Y7, BX
	SHLQ    $32, BX
	ORQ     BX, AX
	MOVQ    AX, (DI)
	ADDQ    $64, SI
	ADDQ    $8, DI
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET
