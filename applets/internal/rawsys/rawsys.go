// Package rawsys makes raw system calls for the first init of tw, which
// must run before package syscall's: its init raises RLIMIT_NOFILE, and
// package nofile reads the caller's first. It imports nothing with an init,
// and has none.
package rawsys
