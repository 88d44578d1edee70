#include "textflag.h"

// func Syscall4(nr, a1, a2, a3, a4 uintptr) (r uintptr)
TEXT ·Syscall4(SB),NOSPLIT,$0-48
	MOVD	a1+8(FP), R0
	MOVD	a2+16(FP), R1
	MOVD	a3+24(FP), R2
	MOVD	a4+32(FP), R3
	MOVD	nr+0(FP), R8
	SVC
	MOVD	R0, r+40(FP)
	RET
