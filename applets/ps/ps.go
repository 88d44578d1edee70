// Package ps is tw-ps: the running containers that the chain started,
// read from /proc and tw-net's records, as lsns and runc list show theirs.
package ps

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/running"
)

var Applet = cli.Applet{Name: "ps", Summary: "list the running containers the chain started", Main: Main}

const usage = `Usage: tw-ps [--json] [-q]

List the containers that tw-unshare started (alone, or under tw-limit or
tw-net, or from scripts/tupperware.sh) and that still run, oldest first:

  NAME      the --hostname given to tw-unshare (tupperware.sh --name)
  PID       the container's first process, as the host numbers it
  ROOT      the NEWROOT given to tw-pivot, made absolute
  HOSTNAME  the hostname of its UTS namespace now
  UPTIME    since its first process started
  ADDRESS   the address tw-net gave it, BRIDGE/IP
  CGROUP    its cgroup where it is not tw-ps's own (cgroup v2, else its
            pids or memory cgroup), as tw-limit makes them

A field that does not apply is "-". Nothing is recorded for this: tw-ps
reads the command line of the tw process that runs tw-unshare, the
namespaces and cgroups of its child in /proc, and tw-net's records in
/run/tupperware/net. With --json the list is a JSON array (uptime in
seconds, absent fields ""); -q prints the PIDs only. tw-enter NAME|PID
joins one.
`

// Main runs tw-ps.
func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("tw-ps", true)
	asJSON := fs.Bool("json", false, "print a JSON array")
	quiet := fs.BoolP("quiet", "q", false, "print the PIDs only, one per line")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 0, 0); err != nil {
		return err
	}
	list, err := running.Scan()
	if err != nil {
		return fmt.Errorf("read /proc: %w", err)
	}
	switch {
	case *asJSON:
		if list == nil {
			list = []running.Container{}
		}
		b, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdio.Stdout, "%s\n", b)
		return err
	case *quiet:
		for _, c := range list {
			fmt.Fprintln(stdio.Stdout, c.Pid)
		}
		return nil
	}
	w := tabwriter.NewWriter(stdio.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tPID\tROOT\tHOSTNAME\tUPTIME\tADDRESS\tCGROUP")
	for _, c := range list {
		addr := ""
		if c.Address != "" {
			addr = c.Bridge + "/" + c.Address
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", dash(c.Name), c.Pid, dash(c.Root), dash(c.Hostname),
			c.Uptime, dash(addr), dash(c.Cgroup))
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
