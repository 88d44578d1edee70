#include "textflag.h"

// func prlimit(resource uintptr, old *rlimit) int64
TEXT ·prlimit(SB),NOSPLIT,$0-24
	MOVD	$0, R0
	MOVD	resource+0(FP), R1
	MOVD	$0, R2
	MOVD	old+8(FP), R3
	MOVD	$261, R8 // SYS_PRLIMIT64
	SVC
	MOVD	R0, ret+16(FP)
	RET
