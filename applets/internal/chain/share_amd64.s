#include "textflag.h"

// func rawCloneShared(args *cloneArgs, size uintptr, c *spawnArgs) (pid uintptr, errno uintptr)
//
// clone3(args, size) for a child that shares this memory on the stack of
// args (CLONE_VM without CLONE_VFORK): the child starts with its stack
// pointer at the top of it, and calls sharedChild(c) there (as ABI0, c at
// 0(SP)), which never returns; c is kept in R12 across the system call.
TEXT ·rawCloneShared(SB),NOSPLIT|NOFRAME,$0-40
	MOVQ	args+0(FP), DI
	MOVQ	size+8(FP), SI
	MOVQ	c+16(FP), R12
	MOVQ	$0, DX
	MOVQ	$0, R10
	MOVQ	$0, R8
	MOVQ	$0, R9
	MOVQ	$435, AX // SYS_CLONE3
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$0, pid+24(FP)
	NEGQ	AX
	MOVQ	AX, errno+32(FP)
	RET
ok:
	MOVQ	AX, pid+24(FP)
	MOVQ	$0, errno+32(FP)
	RET
child:
	ANDQ	$~15, SP
	SUBQ	$16, SP
	MOVQ	R12, 0(SP)
	CALL	·sharedChild(SB)
	MOVQ	$1, DI
	MOVQ	$231, AX // SYS_EXIT_GROUP
	SYSCALL
	JMP	-3(PC)
