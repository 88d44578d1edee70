package memexec

const trampolineMachine = 183 // EM_AARCH64

// At the entry point the stack holds argc, then argv[0…argc-1], NULL,
// then the environment. Instructions are little-endian words.
var trampolineCode = []byte{
	0xe2, 0x03, 0x40, 0xf9, //       ldr  x2, [sp]             ; argc
	0x5f, 0x08, 0x00, 0xf1, //       cmp  x2, #2
	0xe3, 0x00, 0x00, 0x54, //       b.lo fail                 ; no program named
	0xe0, 0x0b, 0x40, 0xf9, //       ldr  x0, [sp, #16]        ; argv[1]: the path
	0xe1, 0x63, 0x00, 0x91, //       add  x1, sp, #24          ; &argv[2]: its argv
	0xe2, 0x6f, 0x22, 0x8b, //       add  x2, sp, x2, lsl #3
	0x42, 0x40, 0x00, 0x91, //       add  x2, x2, #16          ; envp, past argv's NULL
	0xa8, 0x1b, 0x80, 0xd2, //       mov  x8, #221             ; execve
	0x01, 0x00, 0x00, 0xd4, //       svc  #0
	0xe0, 0x0f, 0x80, 0xd2, // fail: mov  x0, #127
	0xc8, 0x0b, 0x80, 0xd2, //       mov  x8, #94              ; exit_group
	0x01, 0x00, 0x00, 0xd4, //       svc  #0
}
