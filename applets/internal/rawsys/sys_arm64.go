package rawsys

// System call numbers of linux/arm64.
const (
	SysRead      = 63
	SysClose     = 57
	SysMadvise   = 233
	SysOpenat    = 56
	SysPrlimit64 = 261
)
