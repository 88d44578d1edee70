#include "textflag.h"

// func prlimit(resource uintptr, old *rlimit) int64
TEXT ·prlimit(SB),NOSPLIT,$0-24
	MOVQ	$0, DI
	MOVQ	resource+0(FP), SI
	MOVQ	$0, DX
	MOVQ	old+8(FP), R10
	MOVQ	$302, AX // SYS_PRLIMIT64
	SYSCALL
	MOVQ	AX, ret+16(FP)
	RET
