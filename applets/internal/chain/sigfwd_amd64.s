#include "textflag.h"

// The handler of Signals that Forwarder installs (see sigfwd.go), called
// by the kernel with the C ABI: the signal in DI. It uses only registers
// the C ABI lets it clobber and no stack but its return address.
//
// A target above 0 gets the signal: kill(target, sig). Else the signal is
// set in fwdPending; if a target was named meanwhile, what is pending is
// taken (XCHG: by this handler or by setTarget, never both) and passed on.
TEXT ·sigHandler(SB),NOSPLIT|NOFRAME,$0
	MOVQ	DI, DX              // sig
	MOVLQSX	·fwdTarget(SB), R9
	TESTQ	R9, R9
	JLE	pend
	MOVQ	R9, DI
	MOVQ	DX, SI
	MOVL	$62, AX             // SYS_KILL
	SYSCALL
	RET
pend:
	MOVQ	$1, R8
	MOVQ	DX, CX
	SHLQ	CX, R8
	LOCK
	ORQ	R8, ·fwdPending(SB)
	MOVLQSX	·fwdTarget(SB), R9
	TESTQ	R9, R9
	JLE	done
	XORQ	R8, R8
	XCHGQ	R8, ·fwdPending(SB)
loop:
	BSFQ	R8, DX              // the lowest signal left
	JZ	done
	BTRQ	DX, R8
	MOVQ	R9, DI
	MOVQ	DX, SI
	MOVL	$62, AX             // SYS_KILL (clobbers CX and R11 only)
	SYSCALL
	JMP	loop
done:
	RET

// The return from sigHandler: rt_sigreturn, as SA_RESTORER asks on amd64.
TEXT ·sigRestorer(SB),NOSPLIT|NOFRAME,$0
	MOVL	$15, AX             // SYS_RT_SIGRETURN
	SYSCALL
	INT	$3

// func sigEntries() (handler, restorer uintptr)
TEXT ·sigEntries(SB),NOSPLIT,$0-16
	LEAQ	·sigHandler(SB), AX
	MOVQ	AX, handler+0(FP)
	LEAQ	·sigRestorer(SB), AX
	MOVQ	AX, restorer+8(FP)
	RET
