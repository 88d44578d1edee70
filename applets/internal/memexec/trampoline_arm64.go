package memexec

const trampolineMachine = 183 // EM_AARCH64

// At the entry point the stack holds argc, then argv[0…argc-1], NULL,
// then the environment. Instructions are little-endian words, assembled
// with llvm-mc and checked with llvm-objdump.
var trampolineHex = []string{
	"e2 03 40 f9", //       ldr  x2, [sp]             ; argc
	"5f 08 00 f1", //       cmp  x2, #2
	"03 03 00 54", //       b.lo fail                 ; no program named
	"e0 07 40 f9", //       ldr  x0, [sp, #8]         ; argv[0]
	"13 00 40 39", //       ldrb w19, [x0]            ; "": report to descriptor 3
	"d3 00 00 35", //       cbnz w19, exec
	"60 00 80 d2", //       mov  x0, #3
	"41 00 80 d2", //       mov  x1, #2               ; F_SETFD
	"22 00 80 d2", //       mov  x2, #1               ; FD_CLOEXEC
	"28 03 80 d2", //       mov  x8, #25              ; fcntl
	"01 00 00 d4", //       svc  #0
	"e0 0b 40 f9", // exec: ldr  x0, [sp, #16]        ; argv[1]: the path
	"e1 63 00 91", //       add  x1, sp, #24          ; &argv[2]: its argv
	"e2 03 40 f9", //       ldr  x2, [sp]
	"e2 6f 22 8b", //       add  x2, sp, x2, lsl #3
	"42 40 00 91", //       add  x2, x2, #16          ; envp, past argv's NULL
	"a8 1b 80 d2", //       mov  x8, #221             ; execve
	"01 00 00 d4", //       svc  #0
	"13 01 00 35", //       cbnz w19, fail
	"e0 03 00 4b", //       neg  w0, w0               ; errno
	"e0 0f 1f b8", //       str  w0, [sp, #-16]!
	"60 00 80 d2", //       mov  x0, #3
	"e1 03 00 91", //       mov  x1, sp
	"82 00 80 d2", //       mov  x2, #4
	"08 08 80 d2", //       mov  x8, #64              ; write
	"01 00 00 d4", //       svc  #0
	"e0 0f 80 d2", // fail: mov  x0, #127
	"c8 0b 80 d2", //       mov  x8, #94              ; exit_group
	"01 00 00 d4", //       svc  #0
}
