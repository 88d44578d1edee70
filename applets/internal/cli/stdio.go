package cli

import "os"

// StdFile is the descriptor behind one of an applet's streams (IO.Stdin,
// Stdout or Stderr), def when it is not a file: a child started with it
// gets the applet's own stdio, untouched.
func StdFile(v any, def *os.File) *os.File {
	if f, ok := v.(*os.File); ok {
		return f
	}
	return def
}
