// Package ocidir serialises updates of an OCI image layout's index.json:
// several tw-pull or tw-commit runs into one layout at once each read the
// index, merge their change into what is there now and replace it, one
// after the other, so that no tag is lost.
package ocidir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// RefName is the annotation that tags a manifest in index.json.
const RefName = "org.opencontainers.image.ref.name"

// Lock takes the lock of the layout at path, waiting for it, and returns
// what releases it. The lock is an flock(2) of the layout's parent
// directory, which exists before the layout does (a new layout is made
// under a temporary name and renamed into place under the lock); it is
// dropped by the kernel when the process dies.
func Lock(path string) (unlock func(), err error) {
	parent := filepath.Dir(filepath.Clean(path))
	fd, err := unix.Open(parent, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: parent, Err: err}
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "lock", Path: parent, Err: err}
	}
	return func() { unix.Close(fd) }, nil
}

type entry struct {
	raw json.RawMessage
	key string // digest and tag
	tag string
}

func parse(data []byte) (map[string]json.RawMessage, []entry, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, err
	}
	var raws []json.RawMessage
	if m, ok := top["manifests"]; ok && string(m) != "null" {
		if err := json.Unmarshal(m, &raws); err != nil {
			return nil, nil, fmt.Errorf("manifests: %w", err)
		}
	}
	out := make([]entry, 0, len(raws))
	for _, r := range raws {
		var d struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		}
		if err := json.Unmarshal(r, &d); err != nil {
			return nil, nil, fmt.Errorf("manifests: %w", err)
		}
		tag := d.Annotations[RefName]
		out = append(out, entry{raw: r, key: d.Digest + "\x00" + tag, tag: tag})
	}
	return top, out, nil
}

// Merge applies the change from base to ours (both index.json contents:
// the index a run started from and the one it made) to current, the index
// as it is now: descriptors ours added are added (replacing any of current
// with the same tag), descriptors ours dropped are dropped, and everything
// else of current stays. A nil base is an empty index.
func Merge(base, ours, current []byte) ([]byte, error) {
	if base == nil {
		base = []byte(`{"manifests":[]}`)
	}
	_, b, err := parse(base)
	if err != nil {
		return nil, fmt.Errorf("old index.json: %w", err)
	}
	_, o, err := parse(ours)
	if err != nil {
		return nil, fmt.Errorf("new index.json: %w", err)
	}
	top, c, err := parse(current)
	if err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	inBase, inOurs := map[string]bool{}, map[string]bool{}
	for _, e := range b {
		inBase[e.key] = true
	}
	for _, e := range o {
		inOurs[e.key] = true
	}
	var added []entry
	drop, retag := map[string]bool{}, map[string]bool{}
	for _, e := range o {
		if !inBase[e.key] {
			added = append(added, e)
			drop[e.key] = true
			if e.tag != "" {
				retag[e.tag] = true
			}
		}
	}
	for _, e := range b {
		if !inOurs[e.key] {
			drop[e.key] = true
		}
	}
	out := []json.RawMessage{}
	for _, e := range c {
		if !drop[e.key] && !retag[e.tag] {
			out = append(out, e.raw)
		}
	}
	for _, e := range added {
		out = append(out, e.raw)
	}
	m, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	top["manifests"] = m
	return json.Marshal(top)
}

// Replace writes data as dir/index.json in one atomic step: a temporary
// file beside it, synced, renamed over it.
func Replace(dir string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".index.json.tw-")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, filepath.Join(dir, "index.json"))
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}

// MoveBlobs moves the blobs of the layout from into the layout to, leaving
// those to already has (same digest, same content). It is how a new layout
// made under a temporary name joins one that appeared meanwhile.
func MoveBlobs(from, to string) error {
	algs, err := os.ReadDir(filepath.Join(from, "blobs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	for _, a := range algs {
		src := filepath.Join(from, "blobs", a.Name())
		dst := filepath.Join(to, "blobs", a.Name())
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		blobs, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, b := range blobs {
			if _, err := os.Lstat(filepath.Join(dst, b.Name())); err == nil {
				continue
			}
			if err := os.Rename(filepath.Join(src, b.Name()), filepath.Join(dst, b.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
