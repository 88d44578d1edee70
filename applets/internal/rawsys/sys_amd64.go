package rawsys

// System call numbers of linux/amd64.
const (
	SysRead      = 0
	SysClose     = 3
	SysMadvise   = 28
	SysOpenat    = 257
	SysPrlimit64 = 302
)
