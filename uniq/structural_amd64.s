#include "textflag.h"

// func structuralAVX2(data *byte, blocks int, delim, quote byte, masks *blockMasks)
TEXT ·structuralAVX2(SB), NOSPLIT, $0-32
	MOVQ    data+0(FP), SI
	MOVQ    blocks+8(FP), CX
	MOVBQZX delim+16(FP), AX
	MOVBQZX quote+17(FP), DX
	MOVQ    masks+24(FP), DI
	MOVQ    AX, X0
	VPBROADCASTB X0, Y0        // delim
	MOVQ    $0x0a, AX
	MOVQ    AX, X1
	VPBROADCASTB X1, Y1        // '\n'
	MOVQ    DX, X2
	VPBROADCASTB X2, Y2        // the quote
	MOVQ    $0x0d, AX
	MOVQ    AX, X9
	VPBROADCASTB X9, Y9        // '\r'

loop:
	VMOVDQU (SI), Y3
	VMOVDQU 32(SI), Y4
	VPCMPEQB Y3, Y1, Y5        // ends of the low half: newline, quote or CR
	VPCMPEQB Y3, Y2, Y6
	VPOR     Y5, Y6, Y5
	VPCMPEQB Y3, Y9, Y6
	VPOR     Y5, Y6, Y5
	VPCMPEQB Y3, Y0, Y6        // fields: ends or delimiter
	VPOR     Y5, Y6, Y6
	VPCMPEQB Y4, Y1, Y7        // the same of the high half
	VPCMPEQB Y4, Y2, Y8
	VPOR     Y7, Y8, Y7
	VPCMPEQB Y4, Y9, Y8
	VPOR     Y7, Y8, Y7
	VPCMPEQB Y4, Y0, Y8
	VPOR     Y7, Y8, Y8
	VPMOVMSKB Y6, AX
	VPMOVMSKB Y8, BX
	SHLQ    $32, BX
	ORQ     BX, AX
	MOVQ    AX, (DI)           // fields
	VPMOVMSKB Y5, AX
	VPMOVMSKB Y7, BX
	SHLQ    $32, BX
	ORQ     BX, AX
	MOVQ    AX, 8(DI)          // ends
	ADDQ    $64, SI
	ADDQ    $16, DI
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET
