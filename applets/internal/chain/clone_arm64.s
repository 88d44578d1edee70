#include "textflag.h"

// func Clone(flags uintptr) (pid uintptr, errno uintptr): rawVfork itself
// (a branch keeps the caller's return address in LR).
TEXT ·Clone(SB),NOSPLIT|NOFRAME,$0-24
	B	·rawVfork(SB)
