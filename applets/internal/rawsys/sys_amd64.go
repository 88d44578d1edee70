package rawsys

// System call numbers of linux/amd64.
const (
	SysClose     = 3
	SysPrlimit64 = 302
)
