#include "textflag.h"

// func madvise(addr, length, advice uintptr)
//
// madvise(2), its result ignored: see madvise_amd64.s.
TEXT ·madvise(SB),NOSPLIT,$0-24
	MOVD	addr+0(FP), R0
	MOVD	length+8(FP), R1
	MOVD	advice+16(FP), R2
	MOVD	$233, R8 // SYS_MADVISE
	SVC
	RET
