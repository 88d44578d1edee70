#include "textflag.h"

// func syscall3(nr, a1, a2, a3 uintptr) (r uintptr)
//
// See syscall_amd64.s.
TEXT ·syscall3(SB),NOSPLIT,$0-40
	MOVD	a1+8(FP), R0
	MOVD	a2+16(FP), R1
	MOVD	a3+24(FP), R2
	MOVD	nr+0(FP), R8
	SVC
	MOVD	R0, r+32(FP)
	RET
