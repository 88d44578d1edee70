package rawsys

// System call numbers of linux/arm64.
const (
	SysClose     = 57
	SysPrlimit64 = 261
)
