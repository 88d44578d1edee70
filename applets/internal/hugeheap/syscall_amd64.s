#include "textflag.h"

// func syscall3(nr, a1, a2, a3 uintptr) (r uintptr)
//
// A raw system call of three arguments; r is the result or -errno. This
// package's own, so that it imports no package with an init of its own
// (see the package comment).
TEXT ·syscall3(SB),NOSPLIT,$0-40
	MOVQ	a1+8(FP), DI
	MOVQ	a2+16(FP), SI
	MOVQ	a3+24(FP), DX
	MOVQ	nr+0(FP), AX
	SYSCALL
	MOVQ	AX, r+32(FP)
	RET
