package memexec

const trampolineMachine = 62 // EM_X86_64

// At the entry point the stack holds argc, then argv[0…argc-1], NULL,
// then the environment.
var trampolineCode = []byte{
	0x48, 0x8b, 0x04, 0x24, //            mov  rax, [rsp]           ; argc
	0x48, 0x83, 0xf8, 0x02, //            cmp  rax, 2
	0x72, 0x16, //                        jb   fail                 ; no program named
	0x48, 0x8b, 0x7c, 0x24, 0x10, //      mov  rdi, [rsp+16]        ; argv[1]: the path
	0x48, 0x8d, 0x74, 0x24, 0x18, //      lea  rsi, [rsp+24]        ; &argv[2]: its argv
	0x48, 0x8d, 0x54, 0xc4, 0x10, //      lea  rdx, [rsp+rax*8+16]  ; envp, past argv's NULL
	0xb8, 0x3b, 0x00, 0x00, 0x00, //      mov  eax, 59              ; execve
	0x0f, 0x05, //                        syscall
	0xbf, 0x7f, 0x00, 0x00, 0x00, // fail: mov  edi, 127
	0xb8, 0xe7, 0x00, 0x00, 0x00, //      mov  eax, 231             ; exit_group
	0x0f, 0x05, //                        syscall
}
