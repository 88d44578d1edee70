package enter

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// EnvFilters hands the seccomp filters the parent read from the
// container's first process to the child, which installs them: hex of
// each filter's instructions, oldest filter first, separated by commas.
const EnvFilters = "TW_ENTER_SECCOMP"

// readFilters reads the seccomp filters of pid, the oldest first, as the
// kernel holds them (PTRACE_SECCOMP_GET_FILTER: classic BPF, what the
// filters' flags were is not kept). pid is stopped for that moment:
// seized, interrupted, read, let go. The calling thread must stay locked.
func readFilters(pid int) (filters [][]unix.SockFilter, err error) {
	if err := unix.PtraceSeize(pid); err != nil {
		return nil, fmt.Errorf("ptrace seize: %w", err)
	}
	defer func() {
		if derr := unix.PtraceDetach(pid); derr != nil && err == nil {
			err = fmt.Errorf("ptrace detach: %w", derr)
		}
	}()
	if err := unix.PtraceInterrupt(pid); err != nil {
		return nil, fmt.Errorf("ptrace interrupt: %w", err)
	}
	for {
		_, err := unix.Wait4(pid, nil, unix.WALL, nil)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return nil, fmt.Errorf("wait: %w", err)
		}
	}
	for i := 0; ; i++ {
		n, err := getFilter(pid, i, nil)
		if errors.Is(err, unix.ENOENT) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read filter %d: %w", i, err)
		}
		f := make([]unix.SockFilter, n)
		if _, err := getFilter(pid, i, f); err != nil {
			return nil, fmt.Errorf("read filter %d: %w", i, err)
		}
		filters = append([][]unix.SockFilter{f}, filters...) // index 0 is the newest
	}
	return filters, nil
}

func getFilter(pid, index int, buf []unix.SockFilter) (int, error) {
	var p unsafe.Pointer
	if len(buf) > 0 {
		p = unsafe.Pointer(&buf[0])
	}
	n, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(pid), uintptr(index), uintptr(p), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// encodeFilters and decodeFilters carry filters in EnvFilters.
func encodeFilters(filters [][]unix.SockFilter) string {
	parts := make([]string, len(filters))
	for i, f := range filters {
		b := make([]byte, 0, 8*len(f))
		for _, in := range f {
			b = binary.LittleEndian.AppendUint16(b, in.Code)
			b = append(b, in.Jt, in.Jf)
			b = binary.LittleEndian.AppendUint32(b, in.K)
		}
		parts[i] = hex.EncodeToString(b)
	}
	return strings.Join(parts, ",")
}

func decodeFilters(s string) ([][]unix.SockFilter, error) {
	if s == "" {
		return nil, nil
	}
	var filters [][]unix.SockFilter
	for _, part := range strings.Split(s, ",") {
		b, err := hex.DecodeString(part)
		if err != nil || len(b) == 0 || len(b)%8 != 0 {
			return nil, fmt.Errorf("%s: not a list of filters", EnvFilters)
		}
		f := make([]unix.SockFilter, len(b)/8)
		for i := range f {
			in := b[8*i:]
			f[i] = unix.SockFilter{Code: binary.LittleEndian.Uint16(in), Jt: in[2], Jf: in[3], K: binary.LittleEndian.Uint32(in[4:])}
		}
		filters = append(filters, f)
	}
	return filters, nil
}
