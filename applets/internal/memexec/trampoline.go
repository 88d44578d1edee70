package memexec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	_ "unsafe" // for go:linkname

	"golang.org/x/sys/unix"
)

// The trampoline is what a runtime executes instead of the container's
// program, where tw is a security boundary (runc CVE-2019-5736; runc 1.2's
// runc-dmz is the same idea): a static ELF of a few hundred bytes whose
// code is
//
//	execve(argv[1], &argv[2], envp); exit_group(127)
//
// in a sealed memfd. The program it executes replaces it as usual, with
// its own binary as /proc/self/exe. But a program that is a script
// `#!/proc/self/exe` makes the kernel run the binary of the process that
// executed the script: without the trampoline that was the host's tw,
// which a process of the container could then hold through /proc/PID/exe
// and, once it ended, open for writing and replace. Now it is the
// trampoline, a memfd sealed against writes, one per tw process.
//
// An empty argv[0] asks the trampoline to report a failed execve: it
// first makes descriptor 3 close-on-exec, and writes the errno there (4
// bytes, native byte order) before it exits; the read end of a pipe that
// was its descriptor 3 gets the errno, or EOF once the program runs.
//
// The machine code is written here, per architecture (trampoline_ARCH.go);
// on other architectures there is none and Trampoline fails.

// TrampolineName is the trampoline's argv[0] and its memfd's name.
const TrampolineName = "tw-exec"

var trampoline struct {
	once sync.Once
	fd   int
	err  error
}

// Trampoline returns a descriptor of the sealed trampoline, made on the
// first call and kept open (close-on-exec, above 3) for the life of the
// process. Call it before a fork whose child may not allocate, then have
// the child run execveat(fd, "", TrampolineArgv(path, argv, report), env,
// AT_EMPTY_PATH) (the seccomp filter must allow execveat, and the
// trampoline's execve): the close-on-exec descriptor does not keep an ELF
// from executing, and the program inherits no descriptor of it. A Go
// process that is to become the program calls ExecTrampoline.
func Trampoline() (int, error) {
	trampoline.once.Do(func() {
		if len(trampolineHex) == 0 {
			trampoline.err = errNoTrampoline
			return
		}
		f, err := Sealed(TrampolineName, bytes.NewReader(trampolineELF()))
		if err != nil {
			trampoline.err = err
			return
		}
		// above 3, which the report takes; no *os.File whose
		// finalizer would close it
		trampoline.fd, trampoline.err = unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 4)
		f.Close()
	})
	return trampoline.fd, trampoline.err
}

// TrampolineArgv is the trampoline's argv that makes it execute path
// with argv; with report, one that reports a failure to descriptor 3,
// which the caller opens (see ReportedErrno). The program never gets
// descriptor 3 then: without report, a descriptor 3 the program must
// inherit (OCI's preserved descriptors, LISTEN_FDS) is left alone.
func TrampolineArgv(path string, argv []string, report bool) []string {
	name := TrampolineName
	if report {
		name = ""
	}
	return append([]string{name, path}, argv...)
}

// ReportedErrno is what the trampoline reported in b, read from the pipe
// that was its descriptor 3: 0 for nothing (the program runs), else the
// errno of the failed execve.
func ReportedErrno(b []byte) syscall.Errno {
	if len(b) < 4 {
		return 0
	}
	return syscall.Errno(binary.NativeEndian.Uint32(b))
}

// trampolineELF is the trampoline's file: an ELF header, a PT_LOAD of
// the whole file, read and execute, at trampolineBase, and a
// PT_GNU_STACK without execute; then the code, the entry point.
func trampolineELF() []byte {
	const ehsize, phsize, phnum = 64, 56, 2
	const hdr = ehsize + phnum*phsize
	code := hexCode(trampolineHex...)
	size := uint64(hdr + len(code))
	var b bytes.Buffer
	w := func(v ...any) {
		for _, x := range v {
			binary.Write(&b, binary.LittleEndian, x)
		}
	}
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* version */, 0 /* System V */})
	b.Write(make([]byte, 8))
	w(uint16(2) /* ET_EXEC */, uint16(trampolineMachine), uint32(1), uint64(trampolineBase+hdr), uint64(ehsize), uint64(0),
		uint32(0), uint16(ehsize), uint16(phsize), uint16(phnum), uint16(0), uint16(0), uint16(0))
	const load, stack, r, w_, x = 1, 0x6474e551, 4, 2, 1
	w(uint32(load), uint32(r|x), uint64(0), uint64(trampolineBase), uint64(trampolineBase), size, size, uint64(0x10000))
	w(uint32(stack), uint32(r|w_), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(16))
	b.Write(code)
	return b.Bytes()
}

// trampolineBase is where the trampoline is loaded: page aligned for
// pages up to 64 KiB.
const trampolineBase = 0x400000

var errNoTrampoline = errors.New("no exec trampoline for this architecture")

// hexCode is the bytes written in hex, two digits each, spaces between
// them ignored.
func hexCode(lines ...string) []byte {
	var b []byte
	for _, l := range lines {
		for _, h := range strings.Fields(l) {
			v, err := strconv.ParseUint(h, 16, 8)
			if err != nil {
				panic("trampoline code: " + h)
			}
			b = append(b, byte(v))
		}
	}
	return b
}

// ExecTrampoline replaces this (Go) process with the program at path, run
// as argv with env, through the trampoline; with report, descriptor 3 is
// the caller's pipe for the trampoline's report (see TrampolineArgv), made
// close-on-exec again if the trampoline fails to start. The caller closes
// or marks close-on-exec every other descriptor the program must not get.
// It returns only on error: of the trampoline, not of the program.
func ExecTrampoline(path string, argv, env []string, report bool) error {
	fd, err := Trampoline()
	if err != nil {
		return err
	}
	targv := TrampolineArgv(path, argv, report)
	if report {
		if _, err := unix.FcntlInt(3, unix.F_SETFD, 0); err != nil {
			return fmt.Errorf("report descriptor: %w", err)
		}
		defer unix.FcntlInt(3, unix.F_SETFD, unix.FD_CLOEXEC)
	}
	// as syscall.Exec: no thread is created while this one executes
	beforeExec()
	defer afterExec()
	return execveat(fd, targv, env)
}

//go:linkname beforeExec syscall.runtime_BeforeExec
func beforeExec()

//go:linkname afterExec syscall.runtime_AfterExec
func afterExec()
