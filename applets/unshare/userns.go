package unshare

// tw-unshare's user namespace (-U, -r, --map-user, --map-group,
// --map-auto, --setgroups), as util-linux unshare(1) makes it. One id is
// mapped by Go itself (SysProcAttr.UidMappings, written while the child
// waits before its execve); ranges from /etc/subuid and /etc/subgid,
// which a user may not write, by newuidmap and newgidmap, which the parent
// runs while tw's child waits on a pipe before it does anything.
//
// tw's own child (not a direct PROG) is given every capability as ambient
// ones, so that it keeps them across its execve whatever uid it is mapped
// to, and clears them as it starts: the applets it runs in-process have
// them, PROG gets what execve gives (all as root of the namespace, none
// as another uid), as with unshare(1), which has them in-process. Where
// its uid is 0 inside before its execve (-r, --map-user=0, without
// --map-auto), execve gives it all of them anyway: no ambient ones then
// (some 80 system calls less on the way).

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// envUser marks tw's child in a new user namespace: "fd=N" when it must
// wait for its maps on descriptor N, "setgroups=V" when it must write
// /proc/self/setgroups itself, "caps" when it must clear the ambient
// capabilities it was given.
const envUser = "TW_UNSHARE_USER"

type userOptions struct {
	user, root, auto  bool
	mapUser, mapGroup string
	setgroups         string

	uids, gids []ns.IDMap // resolved by check
	helper     bool       // ranges through newuidmap/newgidmap
	euid, egid int
	sync       *os.File // the parent's end of the child's wait
	childEnd   *os.File // the child's, closed here once it is started
}

func (u *userOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&u.user, "user", "U", false, "new user namespace (needed without root)")
	fs.BoolVarP(&u.root, "map-root-user", "r", false, "map the current user and group to root (implies --user)")
	fs.StringVar(&u.mapUser, "map-user", "", "map the current user to `UID|NAME` (implies --user)")
	fs.StringVar(&u.mapGroup, "map-group", "", "map the current group to `GID|NAME` (implies --user)")
	fs.BoolVar(&u.auto, "map-auto", false, "map the user's ranges of /etc/subuid and /etc/subgid from 0 up, through newuidmap/newgidmap (implies --user)")
	fs.StringVar(&u.setgroups, "setgroups", "", "`allow` or `deny` setgroups(2) in the new user namespace")
}

// check resolves the maps; euid and egid are the caller's; in tw's own
// child (inside) there is nothing to resolve: the parent mapped it.
func (u *userOptions) check(euid, egid int, inside bool) error {
	u.euid, u.egid = euid, egid
	if u.root || u.auto || u.mapUser != "" || u.mapGroup != "" {
		u.user = true
	}
	switch u.setgroups {
	case "", "allow", "deny":
	default:
		return cli.Usagef("unsupported --setgroups argument: %s", u.setgroups)
	}
	if inside {
		return nil
	}
	if !u.user {
		if u.setgroups != "" {
			return cli.Usagef("--setgroups needs --user")
		}
		return nil
	}
	if u.root && (u.mapUser != "" || u.mapGroup != "") {
		return cli.Usagef("--map-root-user and --map-user/--map-group exclude each other")
	}
	inUID, inGID := int64(-1), int64(-1)
	if u.root {
		inUID, inGID = 0, 0
	}
	var err error
	if u.mapUser != "" {
		if inUID, err = lookupID(u.mapUser, true); err != nil {
			return err
		}
	}
	if u.mapGroup != "" {
		if inGID, err = lookupID(u.mapGroup, false); err != nil {
			return err
		}
	}
	u.uids, u.gids = nil, nil
	if u.auto {
		name := strconv.Itoa(euid)
		if pw, err := user.LookupId(name); err == nil {
			name = pw.Username
		}
		ur, err := ns.SubID(ns.SubUIDFile, name, uint32(euid))
		if err != nil {
			return err
		}
		gr, err := ns.SubID(ns.SubGIDFile, name, uint32(euid))
		if err != nil {
			return err
		}
		u.uids, u.gids = []ns.IDMap{ur}, []ns.IDMap{gr}
		if inUID >= 0 {
			u.uids = ns.AddSingle(u.uids, uint32(euid), uint32(inUID))
		}
		if inGID >= 0 {
			u.gids = ns.AddSingle(u.gids, uint32(egid), uint32(inGID))
		}
		u.helper = euid != 0
		return nil
	}
	if inUID >= 0 {
		u.uids = []ns.IDMap{{Inner: uint32(inUID), Outer: uint32(euid), Count: 1}}
	}
	if inGID >= 0 {
		if u.setgroups == "allow" && euid != 0 {
			return cli.Usagef("--setgroups=allow and --map-group exclude each other without root")
		}
		u.gids = []ns.IDMap{{Inner: uint32(inGID), Outer: uint32(egid), Count: 1}}
	}
	return nil
}

// lookupID is a number, or the id of a user or group name.
func lookupID(s string, isUser bool) (int64, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil && n != 0xFFFFFFFF {
		return int64(n), nil
	}
	var id string
	var err error
	if isUser {
		var u *user.User
		if u, err = user.Lookup(s); err == nil {
			id = u.Uid
		}
	} else {
		var g *user.Group
		if g, err = user.LookupGroup(s); err == nil {
			id = g.Gid
		}
	}
	if err != nil {
		return 0, cli.Usagef("no such %s: %s", map[bool]string{true: "user", false: "group"}[isUser], s)
	}
	n, _ := strconv.ParseUint(id, 10, 32)
	return int64(n), nil
}

func (u *userOptions) cloneflag() uintptr {
	if u.user {
		return unix.CLONE_NEWUSER
	}
	return 0
}

// direct reports whether PROG can be the child: Go writes the maps.
func (u *userOptions) direct() bool {
	return !u.helper && (u.setgroups == "" || u.gids != nil)
}

// apply sets the maps on the child to start; own: the child is tw.
func (u *userOptions) apply(attr *syscall.SysProcAttr, own bool) {
	if !u.user {
		return
	}
	if own && !u.rootAtExec() {
		attr.AmbientCaps = ns.AllCaps()
	}
	if u.helper {
		return
	}
	if u.uids != nil {
		attr.UidMappings = ns.SysMaps(u.uids)
	}
	if u.gids != nil {
		attr.GidMappings = ns.SysMaps(u.gids)
		attr.GidMappingsEnableSetgroups = u.setgroups == "allow" || (u.setgroups == "" && u.euid == 0)
	}
}

// rootAtExec reports whether the child is uid 0 inside when it executes
// tw: Go writes its uid map before (not newuidmap, after), and 0 is mapped.
func (u *userOptions) rootAtExec() bool {
	if u.helper {
		return false
	}
	for _, m := range u.uids {
		if m.Inner == 0 && m.Count > 0 {
			return true
		}
	}
	return false
}

// prepare gives tw's child what it needs to wait for its maps.
func (u *userOptions) prepare(cmd *exec.Cmd) error {
	if !u.user {
		return nil
	}
	var v []string
	if u.helper {
		r, w, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("pipe: %w", err)
		}
		u.sync, u.childEnd = w, r
		cmd.ExtraFiles = append(cmd.ExtraFiles, r)
		v = append(v, fmt.Sprintf("fd=%d", 2+len(cmd.ExtraFiles)))
	}
	if u.setgroups != "" && !u.helper && u.gids == nil {
		v = append(v, "setgroups="+u.setgroups)
	}
	if len(cmd.SysProcAttr.AmbientCaps) > 0 {
		v = append(v, "caps")
	}
	cmd.Env = append(cmd.Env, envUser+"="+strings.Join(v, " "))
	return nil
}

// mapChild runs newuidmap and newgidmap (at the same time) for the
// started child and lets it go on; on failure the child reads nothing and
// gives up.
func (u *userOptions) mapChild(pid int, started bool) error {
	if u.sync == nil {
		return nil
	}
	defer u.sync.Close()
	u.childEnd.Close()
	if !started {
		return nil
	}
	if err := u.newMaps(pid); err != nil {
		return err
	}
	_, err := u.sync.Write([]byte{1})
	return err
}

// newMaps writes setgroups (when asked) and runs newuidmap and newgidmap
// (at the same time) for pid.
func (u *userOptions) newMaps(pid int) error {
	if u.setgroups != "" {
		if err := ns.SetGroups(pid, u.setgroups); err != nil {
			return fmt.Errorf("user namespace: %w", err)
		}
	}
	return chain.NewIDMaps(pid, u.uids, u.gids)
}

// childUser is the start of tw's child in a new user namespace: wait for
// the maps, setgroups, no ambient capabilities left for PROG (in this
// order: setgroups needs them).
func childUser() error {
	v, ok := os.LookupEnv(envUser)
	if !ok {
		return nil
	}
	os.Unsetenv(envUser)
	for _, f := range strings.Fields(v) {
		key, val, _ := strings.Cut(f, "=")
		switch key {
		case "fd":
			fd, err := strconv.Atoi(val)
			if err != nil {
				return fmt.Errorf("%s=%s: not a descriptor", envUser, v)
			}
			b := []byte{0}
			n, _ := unix.Read(fd, b)
			unix.Close(fd)
			if n != 1 {
				return errors.New("user namespace: the ids were not mapped")
			}
		case "setgroups":
			if err := ns.SetGroups(0, val); err != nil {
				return fmt.Errorf("user namespace: %w", err)
			}
		case "caps":
			if err := ns.ClearAmbient(); err != nil {
				return err
			}
		}
	}
	return nil
}

// hint explains a refusal to make namespaces to a caller without root.
func hint(err error, u *userOptions, euid int) error {
	if euid != 0 && !u.user && errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w (not root: add -U/--user with -r/--map-root-user or --map-auto)", err)
	}
	return err
}
