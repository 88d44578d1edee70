#include "textflag.h"

// func madvise(addr, length, advice uintptr)
//
// madvise(2), its result ignored: a raw system call of this package's own,
// so that it imports no package with an init of its own (see the package
// comment).
TEXT ·madvise(SB),NOSPLIT,$0-24
	MOVQ	addr+0(FP), DI
	MOVQ	length+8(FP), SI
	MOVQ	advice+16(FP), DX
	MOVQ	$28, AX // SYS_MADVISE
	SYSCALL
	RET
