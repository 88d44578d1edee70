package memexec

const trampolineMachine = 62 // EM_X86_64

// At the entry point the stack holds argc, then argv[0…argc-1], NULL,
// then the environment. The bytes were assembled with llvm-mc (Intel
// syntax below) and checked with objdump.
var trampolineHex = []string{
	"48 8b 04 24   ", //       mov  rax, [rsp]            ; argc
	"48 83 f8 02   ", //       cmp  rax, 2
	"72 5a         ", //       jb   fail                  ; no program named
	"48 8b 7c 24 08", //       mov  rdi, [rsp+8]          ; argv[0]
	"44 0f b6 27   ", //       movzx r12d, byte [rdi]     ; "": report to descriptor 3
	"45 85 e4      ", //       test r12d, r12d
	"75 16         ", //       jnz  exec
	"bf 03 00 00 00", //       mov  edi, 3
	"be 02 00 00 00", //       mov  esi, 2                ; F_SETFD
	"ba 01 00 00 00", //       mov  edx, 1                ; FD_CLOEXEC
	"b8 48 00 00 00", //       mov  eax, 72               ; fcntl
	"0f 05         ", //       syscall
	"48 8b 7c 24 10", // exec: mov  rdi, [rsp+16]         ; argv[1]: the path
	"48 8d 74 24 18", //       lea  rsi, [rsp+24]         ; &argv[2]: its argv
	"48 8b 04 24   ", //       mov  rax, [rsp]
	"48 8d 54 c4 10", //       lea  rdx, [rsp+rax*8+16]   ; envp, past argv's NULL
	"b8 3b 00 00 00", //       mov  eax, 59               ; execve
	"0f 05         ", //       syscall
	"45 85 e4      ", //       test r12d, r12d
	"75 17         ", //       jnz  fail
	"f7 d8         ", //       neg  eax                   ; errno
	"50            ", //       push rax
	"bf 03 00 00 00", //       mov  edi, 3
	"48 89 e6      ", //       mov  rsi, rsp
	"ba 04 00 00 00", //       mov  edx, 4
	"b8 01 00 00 00", //       mov  eax, 1                ; write
	"0f 05         ", //       syscall
	"bf 7f 00 00 00", // fail: mov  edi, 127
	"b8 e7 00 00 00", //       mov  eax, 231              ; exit_group
	"0f 05         ", //       syscall
}
