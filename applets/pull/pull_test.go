package pull

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/pflag"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"

	"github.com/tupperware/tw/applets/internal/cli"
)

// parse runs tw-pull's flag parsing up to the system contexts.
func parse(t *testing.T, args ...string) (src, dest *types.SystemContext, err error) {
	t.Helper()
	var o options
	fs := cli.NewFlagSet("tw-pull", true)
	o.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return SystemContexts(fs, o)
}

func TestSystemContexts(t *testing.T) {
	for _, c := range []struct {
		args      []string
		src, dest types.OptionalBool
	}{
		{nil, types.OptionalBoolUndefined, types.OptionalBoolUndefined},
		{[]string{"--src-tls-verify=false"}, types.OptionalBoolTrue, types.OptionalBoolUndefined},
		{[]string{"--dest-tls-verify=false"}, types.OptionalBoolUndefined, types.OptionalBoolTrue},
		{[]string{"--tls-verify=false"}, types.OptionalBoolTrue, types.OptionalBoolTrue},
		{[]string{"--tls-verify=false", "--dest-tls-verify"}, types.OptionalBoolTrue, types.OptionalBoolFalse},
		{[]string{"--tls-verify=true"}, types.OptionalBoolFalse, types.OptionalBoolFalse},
	} {
		src, dest, err := parse(t, c.args...)
		if err != nil || src.DockerInsecureSkipTLSVerify != c.src || dest.DockerInsecureSkipTLSVerify != c.dest {
			t.Errorf("%q: skip verify src %v dest %v (%v), want %v %v", c.args, src.DockerInsecureSkipTLSVerify, dest.DockerInsecureSkipTLSVerify, err, c.src, c.dest)
		}
	}
	src, dest, err := parse(t, "--src-creds", "u:p:w", "--dest-creds", "v", "--override-os", "linux", "--override-arch", "arm64", "--authfile", "/a")
	if err != nil {
		t.Fatal(err)
	}
	if src.DockerAuthConfig.Username != "u" || src.DockerAuthConfig.Password != "p:w" || dest.DockerAuthConfig.Username != "v" || dest.DockerAuthConfig.Password != "" {
		t.Errorf("creds: %+v %+v", src.DockerAuthConfig, dest.DockerAuthConfig)
	}
	if src.OSChoice != "linux" || src.ArchitectureChoice != "arm64" || dest.OSChoice != "linux" || src.AuthFilePath != "/a" || dest.AuthFilePath != "/a" {
		t.Errorf("src %+v dest %+v", src, dest)
	}
	if _, _, err := parse(t, "--src-creds", ":pw"); err == nil || err.Error() != "--src-creds: empty user name" {
		t.Errorf("empty user: %v", err)
	}
}

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("pinging: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true},
		{fmt.Errorf("x: %w", syscall.ECONNRESET), true},
		{docker.UnexpectedHTTPStatusError{StatusCode: 500}, true},
		{docker.UnexpectedHTTPStatusError{StatusCode: 429}, true},
		{docker.UnexpectedHTTPStatusError{StatusCode: 404}, false},
		{errors.New("manifest unknown"), false},
	} {
		if got := retryable(c.err); got != c.want {
			t.Errorf("retryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestLoadPolicy(t *testing.T) {
	root := t.TempDir()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("CONTAINERS_POLICY_JSON", "")
	sys := &types.SystemContext{RootForImplicitAbsolutePaths: root}
	p, err := loadPolicy("", sys)
	if err != nil || len(p.Default) != 1 {
		t.Fatalf("no policy file: %+v, %v", p, err)
	}
	if got := requirement(t, p); got != `{"type":"insecureAcceptAnything"}` {
		t.Errorf("fallback = %s", got)
	}
	if err := os.MkdirAll(root+"/etc/containers", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root+"/etc/containers/policy.json", []byte(`{"default":[{"type":"reject"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = loadPolicy("", sys)
	if err != nil {
		t.Fatal(err)
	}
	if got := requirement(t, p); got != `{"type":"reject"}` {
		t.Errorf("system policy = %s", got)
	}
	if _, err := loadPolicy(root+"/nosuch.json", sys); err == nil {
		t.Error("--policy with a missing file: no error")
	}
	t.Setenv("CONTAINERS_POLICY_JSON", root+"/nosuch.json")
	if _, err := loadPolicy("", &types.SystemContext{}); err == nil {
		t.Error("$CONTAINERS_POLICY_JSON naming a missing file: no error")
	}
}

func requirement(t *testing.T, p *signature.Policy) string {
	t.Helper()
	b, err := json.Marshal(p.Default[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The usage text, not only the flag list, says what each flag does.
func TestUsageDescribesEveryFlag(t *testing.T) {
	var o options
	fs := cli.NewFlagSet("tw-pull", true)
	o.register(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && !strings.Contains(usage, "--"+f.Name) {
			t.Errorf("the usage text does not describe --%s", f.Name)
		}
	})
}
