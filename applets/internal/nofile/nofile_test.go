package nofile_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tupperware/tw/applets/internal/nofile"
)

// The limit is the one the process started with, not the one Go raised
// it to: a child started with a lower soft limit reports that one.
func TestOriginal(t *testing.T) {
	if os.Getenv("NOFILE_CHILD") != "" {
		soft, hard, ok := nofile.Original()
		var now syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now)
		os.Stdout.WriteString(strconv.FormatBool(ok) + " " + strconv.FormatUint(soft, 10) + " " +
			strconv.FormatUint(hard, 10) + " " + strconv.FormatUint(now.Cur, 10) + "\n")
		return
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Max < 200 {
		t.Skip("RLIMIT_NOFILE:", lim, err)
	}
	cmd := exec.Command("sh", "-c", `ulimit -Sn 100 && exec "$0" -test.run=TestOriginal`, os.Args[0])
	cmd.Env = append(os.Environ(), "NOFILE_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	if len(f) < 4 || f[0] != "true" || f[1] != "100" || f[2] != strconv.FormatUint(lim.Max, 10) || f[3] == "100" {
		t.Errorf("child: %q; want true 100 %d and a raised soft limit", out, lim.Max)
	}
}
