// The runtime's GOMAXPROCS updater is a goroutine (and so, at start, a
// thread) more in every start of tw, for programs that run long under a
// changing CPU limit: tw's chainloaders start once per link of a
// container's chain and mostly wait.

//go:debug updatemaxprocs=0
package main
