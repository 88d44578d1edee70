#include "textflag.h"

// func Clone(flags uintptr) (pid uintptr, errno uintptr): rawVfork itself
// (a jump keeps the caller's return address where rawVfork takes it).
TEXT ·Clone(SB),NOSPLIT|NOFRAME,$0-24
	JMP	·rawVfork(SB)
