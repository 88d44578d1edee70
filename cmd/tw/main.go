// Command tw is tupperware: one static binary whose applets build a Linux
// container step by step. It runs applet NAME when called as tw-NAME (a
// symlink) or as `tw NAME ARGS…`.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tupperware/tw/applets"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Usage: tw NAME [ARGS…]   or   tw-NAME [ARGS…]
       tw --list | --install [--copy] DIR | --version | --help
       tw --man DIR | --completion bash|zsh

tupperware builds a Linux container by hand, one applet per step.
Run 'tw NAME --help' for an applet's options.
`

func main() {
	os.Exit(run(os.Args, applets.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}

func run(argv []string, stdio applets.IO) int {
	applets.Register(applets.Core...)
	applets.Register(imageApplets...)
	name := filepath.Base(argv[0])
	args := argv[1:]
	if !strings.HasPrefix(name, "tw-") {
		if len(args) == 0 {
			fmt.Fprint(stdio.Stderr, usage)
			listTo(stdio.Stderr)
			return 2
		}
		switch args[0] {
		case "-h", "--help":
			fmt.Fprint(stdio.Stdout, usage)
			listTo(stdio.Stdout)
			return 0
		case "--version":
			fmt.Fprintf(stdio.Stdout, "tw %s\n", version)
			return 0
		case "--list", "-l":
			for _, n := range applets.Names() {
				fmt.Fprintf(stdio.Stdout, "tw-%s\n", n)
			}
			return 0
		case "--install":
			copied := len(args) == 3 && args[1] == "--copy"
			if len(args) != 2 && !copied || len(args) == 2 && strings.HasPrefix(args[1], "-") {
				fmt.Fprintln(stdio.Stderr, "tw: --install: expected [--copy] and one directory")
				return 2
			}
			if err := install(args[len(args)-1], copied); err != nil {
				fmt.Fprintf(stdio.Stderr, "tw: install: %v\n", err)
				return 1
			}
			return 0
		case "--man":
			if len(args) != 2 {
				fmt.Fprintln(stdio.Stderr, "tw: --man: expected one directory")
				return 2
			}
			if err := writeMan(args[1]); err != nil {
				fmt.Fprintf(stdio.Stderr, "tw: man: %v\n", err)
				return 1
			}
			return 0
		case "--completion":
			if len(args) != 2 || args[1] != "bash" && args[1] != "zsh" {
				fmt.Fprintln(stdio.Stderr, "tw: --completion: expected bash or zsh")
				return 2
			}
			if err := completion(stdio.Stdout, args[1]); err != nil {
				fmt.Fprintf(stdio.Stderr, "tw: completion: %v\n", err)
				return 1
			}
			return 0
		}
		name, args = "tw-"+strings.TrimPrefix(args[0], "tw-"), args[1:]
	}
	a, ok := applets.Lookup(name)
	if !ok {
		fmt.Fprintf(stdio.Stderr, "tw: %s: no such applet\n", strings.TrimPrefix(name, "tw-"))
		listTo(stdio.Stderr)
		return 127
	}
	return applets.Report(a, a.Main(args, stdio), stdio.Stderr)
}

func listTo(w io.Writer) {
	fmt.Fprintln(w, "\nApplets:")
	for _, n := range applets.Names() {
		a, _ := applets.Get(n)
		fmt.Fprintf(w, "  tw-%-12s %s\n", n, a.Summary)
	}
}

// install makes the tw-NAME symlinks in dir, pointing at this binary;
// with copied, at a copy of it that it first writes there as dir/tw.
func install(dir string, copied bool) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if copied {
		if self, err = copySelf(filepath.Join(dir, "tw")); err != nil {
			return err
		}
	}
	target := self
	if abs, err := filepath.Abs(dir); err == nil && filepath.Dir(self) == abs {
		target = filepath.Base(self)
	}
	for _, n := range applets.Names() {
		link := filepath.Join(dir, "tw-"+n)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		tmp := link + ".tmp"
		os.Remove(tmp)
		if err := os.Symlink(target, tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, link); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return nil
}
