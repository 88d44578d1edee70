#include "textflag.h"

// func Syscall4(nr, a1, a2, a3, a4 uintptr) (r uintptr)
TEXT ·Syscall4(SB),NOSPLIT,$0-48
	MOVQ	a1+8(FP), DI
	MOVQ	a2+16(FP), SI
	MOVQ	a3+24(FP), DX
	MOVQ	a4+32(FP), R10
	MOVQ	nr+0(FP), AX
	SYSCALL
	MOVQ	AX, r+40(FP)
	RET
