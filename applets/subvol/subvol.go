// Package subvol is tw-subvol: make, delete, list and show btrfs
// subvolumes and get or set their read-only flag, as `btrfs subvolume
// create/delete/list/show` and `btrfs property get/set PATH ro` do
// (walkthrough step 5), through the kernel's ioctls.
package subvol

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/btrfs"
	"github.com/tupperware/tw/applets/internal/cli"
)

const usage = `Usage: tw-subvol create PATH…
       tw-subvol delete [-r] [-v] PATH…
       tw-subvol list [-p] [-r] [--json] PATH
       tw-subvol show [--json] PATH
       tw-subvol ro PATH [true|false]

Manage btrfs subvolumes, like 'btrfs subvolume' and 'btrfs property … ro'.

  create  make an empty subvolume at each PATH (its parent must exist)
  delete  delete the subvolume at each PATH, in the order given; a subvolume
          holding others is refused unless -r deletes those first, deepest
          first (or an earlier PATH did)
  list    the subvolumes of the filesystem PATH is on, as
          'btrfs subvolume list -p' prints them (-r: read-only ones only)
  show    one subvolume, as the first lines of 'btrfs subvolume show'
  ro      print the read-only flag (true or false), or set it

create checks every PATH before it makes any. delete, as 'btrfs subvolume
delete' does, checks each PATH when its turn comes: one that fails is
reported and the others are still deleted (exit status 1).

As a user (no CAP_SYS_ADMIN): create, show and ro work on the user's own
subvolumes; list shows the subvolumes below the one PATH is in, those the
user can reach; delete uses the ioctl where the filesystem is mounted with
user_subvol_rm_allowed, and otherwise empties the subvolume and removes it
with rmdir, after checking that it can (-v says which it did).
`

// Applet is tw-subvol.
var Applet = cli.Applet{Name: "subvol", Summary: "create, delete, list and show btrfs subvolumes", Main: Main}

// Main runs tw-subvol.
func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("subvol", false)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usagef("expected a command: create, delete, list, show or ro")
	}
	verb, args := fs.Arg(0), fs.Args()[1:]
	fs = cli.NewFlagSet("subvol "+verb, true)
	var recursive, readonly, asJSON, verbose bool
	switch verb {
	case "delete":
		fs.BoolVarP(&recursive, "recursive", "r", false, "delete nested subvolumes first")
		fs.BoolVarP(&verbose, "verbose", "v", false, "say how each subvolume was deleted (ioctl, or emptied and rmdir)")
	case "list":
		fs.BoolVarP(&readonly, "readonly", "r", false, "list read-only subvolumes only")
		fs.BoolP("parent", "p", true, "print the parent ID (always on, as 'btrfs subvolume list -p')")
		fs.BoolVar(&asJSON, "json", false, "print a JSON array")
	case "show":
		fs.BoolVar(&asJSON, "json", false, "print a JSON object")
	case "create", "ro":
	default:
		return cli.Usagef("unknown command %q", verb)
	}
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	switch verb {
	case "create":
		if err := cli.Args(fs, 1, -1); err != nil {
			return err
		}
		return create(fs.Args())
	case "delete":
		if err := cli.Args(fs, 1, -1); err != nil {
			return err
		}
		var say io.Writer
		if verbose {
			say = stdio.Stderr
		}
		return remove(fs.Args(), recursive, stdio.Stderr, say)
	case "list":
		if err := cli.Args(fs, 1, 1); err != nil {
			return err
		}
		return list(stdio.Stdout, fs.Arg(0), readonly, asJSON)
	case "show":
		if err := cli.Args(fs, 1, 1); err != nil {
			return err
		}
		return show(stdio.Stdout, fs.Arg(0), asJSON)
	default:
		return ro(stdio.Stdout, fs)
	}
}

// split cleans p into its parent directory and last name.
func split(p string) (dir, name string) {
	c := filepath.Clean(p)
	return filepath.Dir(c), filepath.Base(c)
}

// create makes each subvolume after checking them all. A PATH may lie in
// one made by an earlier PATH of the same call.
func create(paths []string) error {
	var dirs btrfs.Dirs
	defer dirs.Close()
	type job struct{ dir, name, path string }
	var jobs []job
	planned := map[string]bool{}
	for _, p := range paths {
		dir, name := split(p)
		if err := btrfs.CheckName(name); err != nil {
			return btrfs.PathError("create", p, err)
		}
		if planned[filepath.Join(dir, name)] {
			return btrfs.PathError("create", p, unix.EEXIST)
		}
		planned[filepath.Join(dir, name)] = true
		jobs = append(jobs, job{dir, name, p})
		if planned[dir] {
			continue // made by this call, checked then
		}
		fd, err := dirs.Open(dir)
		if err == btrfs.ErrNotBtrfs {
			return btrfs.PathError("create", p, err)
		} else if err != nil {
			return btrfs.PathError("open", dir, err)
		}
		var st unix.Stat_t
		if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			return btrfs.PathError("create", p, unix.EEXIST)
		}
	}
	for _, j := range jobs {
		fd, err := dirs.Open(j.dir)
		if err != nil {
			return btrfs.PathError("open", j.dir, err)
		}
		if err := btrfs.CreateSubvolume(fd, j.name); err != nil {
			return btrfs.PathError("create", j.path, err)
		}
	}
	return nil
}

// openSubvol opens path and checks that it is a subvolume.
func openSubvol(path string) (int, error) {
	fd, err := btrfs.OpenDir(path)
	if err != nil {
		return -1, btrfs.PathError("open", path, err)
	}
	if err := btrfs.CheckFd(fd, true); err != nil {
		unix.Close(fd)
		return -1, btrfs.PathError("open", path, err)
	}
	return fd, nil
}

// remove deletes the subvolumes in the order given, as btrfs-progs does:
// each PATH is checked when its turn comes (so "outer/inner outer" works),
// a PATH that fails is reported and the others still go; with recursive
// the subvolumes inside a PATH go first, deepest first. A PATH named twice,
// or inside one already deleted with -r, goes once. verbose, when not
// nil, hears how each was deleted (deleteOne).
func remove(paths []string, recursive bool, stderr, verbose io.Writer) error {
	var dirs btrfs.Dirs
	defer dirs.Close()
	gone := map[string]bool{}
	var failed error
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err == nil && gone[abs] {
			continue
		}
		if err == nil {
			err = removeOne(&dirs, p, abs, recursive, gone, verbose)
		} else {
			err = btrfs.PathError("delete", p, err)
		}
		if err != nil {
			if failed != nil {
				fmt.Fprintf(stderr, "tw-subvol: %v\n", failed)
			}
			failed = err
		}
	}
	return failed
}

// removeOne checks and deletes the subvolume at p (and, with recursive,
// those inside it first), recording each absolute path deleted in gone.
func removeOne(dirs *btrfs.Dirs, p, abs string, recursive bool, gone map[string]bool, verbose io.Writer) error {
	fd, err := openSubvol(p)
	if err != nil {
		return err
	}
	err = notMountPoint(fd, p, filepath.Dir(abs))
	var inside []string
	if err == nil {
		inside, err = nested(fd, p, recursive)
	}
	unix.Close(fd)
	if err != nil {
		return err
	}
	for _, q := range append(inside, p) {
		rel, _ := filepath.Rel(p, q)
		qabs := filepath.Join(abs, rel)
		dir, name := split(qabs)
		dfd, err := dirs.Open(dir)
		if err != nil {
			return btrfs.PathError("open", dir, err)
		}
		if err := deleteOne(dfd, name, q, verbose); err != nil {
			return err
		}
		gone[qabs] = true
	}
	return nil
}

// nested lists the subvolumes inside the subvolume at fd (path p),
// deepest first; without recursive, any one is an error.
func nested(fd int, p string, recursive bool) ([]string, error) {
	info, err := btrfs.GetInfo(fd)
	if err != nil {
		return nil, btrfs.PathError("delete", p, err)
	}
	var walk func(id uint64, p string) ([]string, error)
	walk = func(id uint64, p string) ([]string, error) {
		refs, err := children(fd, id, p)
		if err != nil {
			return nil, btrfs.PathError("delete", p, err)
		}
		var out []string
		for _, r := range refs {
			cp := filepath.Join(p, r.Name)
			if !recursive {
				return nil, btrfs.PathError("delete", p, fmt.Errorf("holds subvolume %s (delete with -r)", cp))
			}
			below, err := walk(r.ID, cp)
			if err != nil {
				return nil, err
			}
			out = append(append(out, below...), cp)
		}
		return out, nil
	}
	return walk(info.ID, p)
}

// notMountPoint refuses a subvolume mounted on its own (the top level
// among them), whose parent directory belongs to another mount.
func notMountPoint(fd int, p, parent string) error {
	pfd, err := btrfs.OpenDir(parent)
	if err != nil {
		return btrfs.PathError("open", parent, err)
	}
	defer unix.Close(pfd)
	a, err := btrfs.MountID(fd)
	if err != nil {
		return btrfs.PathError("statx", p, err)
	}
	b, err := btrfs.MountID(pfd)
	if err != nil {
		return btrfs.PathError("statx", parent, err)
	}
	if a != b {
		return btrfs.PathError("delete", p, unix.EBUSY)
	}
	return nil
}

type listEntry struct {
	ID         uint64 `json:"id"`
	ParentID   uint64 `json:"parent_id"`
	Generation uint64 `json:"generation"`
	UUID       string `json:"uuid"`
	Path       string `json:"path"`
	ReadOnly   bool   `json:"readonly"`
}

// list prints the subvolumes of the filesystem at path.
func list(w io.Writer, path string, readonly, asJSON bool) error {
	fd, err := btrfs.OpenDir(path)
	if err != nil {
		return btrfs.PathError("open", path, err)
	}
	defer unix.Close(fd)
	if err := btrfs.CheckFd(fd, false); err != nil {
		return btrfs.PathError("list", path, err)
	}
	subs, err := listSubvols(fd, path)
	if err != nil {
		return btrfs.PathError("list", path, err)
	}
	out := []listEntry{}
	for _, s := range subs {
		if readonly && !s.ReadOnly {
			continue
		}
		out = append(out, listEntry{s.ID, s.ParentID, s.Generation, s.UUID.String(), s.Path, s.ReadOnly})
	}
	if asJSON {
		return writeJSON(w, out)
	}
	for _, s := range out {
		if _, err := fmt.Fprintf(w, "ID %d gen %d parent %d top level %d path %s\n",
			s.ID, s.Generation, s.ParentID, s.ParentID, s.Path); err != nil {
			return err
		}
	}
	return nil
}

type showEntry struct {
	Path         string `json:"path"`
	Name         string `json:"name"`
	ID           uint64 `json:"id"`
	ParentID     uint64 `json:"parent_id"`
	UUID         string `json:"uuid"`
	ParentUUID   string `json:"parent_uuid"`
	ReceivedUUID string `json:"received_uuid"`
	Generation   uint64 `json:"generation"`
	Otransid     uint64 `json:"gen_at_creation"`
	Created      string `json:"created"`
	ReadOnly     bool   `json:"readonly"`
}

// show prints one subvolume.
func show(w io.Writer, path string, asJSON bool) error {
	fd, err := openSubvol(path)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	info, err := btrfs.GetInfo(fd)
	if err != nil {
		return btrfs.PathError("show", path, err)
	}
	e := showEntry{
		Path: "/", Name: info.Name, ID: info.ID, ParentID: info.ParentID,
		UUID: info.UUID.String(), ParentUUID: info.ParentUUID.String(), ReceivedUUID: info.ReceivedUUID.String(),
		Generation: info.Generation, Otransid: info.Otransid, ReadOnly: info.ReadOnly,
	}
	if info.ID == btrfs.FSTreeID {
		e.Name = "<FS_TREE>"
	} else if e.Path, err = subvolPath(fd, path, info.ID); err != nil {
		return btrfs.PathError("show", path, err)
	}
	if asJSON {
		e.Created = info.Created.Format("2006-01-02T15:04:05.999999999Z07:00")
		return writeJSON(w, e)
	}
	flags := "-"
	if e.ReadOnly {
		flags = "readonly"
	}
	_, err = fmt.Fprintf(w, "%s\n\tName: \t\t\t%s\n\tUUID: \t\t\t%s\n\tParent UUID: \t\t%s\n\tReceived UUID: \t\t%s\n"+
		"\tCreation time: \t\t%s\n\tSubvolume ID: \t\t%d\n\tGeneration: \t\t%d\n\tGen at creation: \t%d\n"+
		"\tParent ID: \t\t%d\n\tTop level ID: \t\t%d\n\tFlags: \t\t\t%s\n",
		e.Path, e.Name, e.UUID, e.ParentUUID, e.ReceivedUUID, info.Created.Format("2006-01-02 15:04:05 -0700"),
		e.ID, e.Generation, e.Otransid, e.ParentID, e.ParentID, flags)
	return err
}

// ro prints or sets the read-only flag.
func ro(w io.Writer, fs *pflag.FlagSet) error {
	if err := cli.Args(fs, 1, 2); err != nil {
		return err
	}
	path := fs.Arg(0)
	var set, value bool
	if fs.NArg() == 2 {
		switch fs.Arg(1) {
		case "true":
			set, value = true, true
		case "false":
			set, value = true, false
		default:
			return cli.Usagef("ro: expected true or false, got %q", fs.Arg(1))
		}
	}
	fd, err := openSubvol(path)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if set {
		return btrfs.PathError("set read-only flag", path, btrfs.SetReadOnly(fd, value))
	}
	v, err := btrfs.ReadOnly(fd)
	if err != nil {
		return btrfs.PathError("get read-only flag", path, err)
	}
	_, err = fmt.Fprintln(w, v)
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
