#include "textflag.h"

// func rawVfork(flags uintptr) (pid uintptr, errno uintptr)
//
// clone(flags, 0, 0, 0, 0) for a child that shares this memory and runs on
// this stack (CLONE_VM|CLONE_VFORK), as syscall.rawVforkSyscall; the
// return address stays in LR, out of the child's way.
TEXT ·rawVfork(SB),NOSPLIT,$0-24
	MOVD	flags+0(FP), R0
	MOVD	$0, R1
	MOVD	$0, R2
	MOVD	$0, R3
	MOVD	$0, R4
	MOVD	$0, R5
	MOVD	$220, R8 // SYS_CLONE
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	ZR, pid+8(FP)
	NEG	R0, R0
	MOVD	R0, errno+16(FP)
	RET
ok:
	MOVD	R0, pid+8(FP)
	MOVD	ZR, errno+16(FP)
	RET

// func rawClone3(args *cloneArgs, size uintptr) (pid uintptr, errno uintptr)
//
// clone3(args, size) for the same vfork child.
TEXT ·rawClone3(SB),NOSPLIT,$0-32
	MOVD	args+0(FP), R0
	MOVD	size+8(FP), R1
	MOVD	$0, R2
	MOVD	$0, R3
	MOVD	$0, R4
	MOVD	$0, R5
	MOVD	$435, R8 // SYS_CLONE3
	SVC
	CMN	$4095, R0
	BCC	ok3
	MOVD	ZR, pid+16(FP)
	NEG	R0, R0
	MOVD	R0, errno+24(FP)
	RET
ok3:
	MOVD	R0, pid+16(FP)
	MOVD	ZR, errno+24(FP)
	RET
