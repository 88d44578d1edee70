package btrfs

import (
	"encoding/binary"
	"sort"
	"unsafe"
)

// Item is one item found by TREE_SEARCH: its key and its on-disk data.
type Item struct {
	ObjectID uint64
	Type     uint32
	Offset   uint64
	Data     []byte // little-endian on-disk format; valid until the next batch
}

// Search walks the items of tree whose keys lie between (minObj, minType,
// 0) and (maxObj, maxType, max) in key order, calling fn for each. Keys
// compare as (objectid, type, offset) triples, so items of other types
// between the bounds come too; fn filters. Needs CAP_SYS_ADMIN.
func Search(fd int, tree, minObj, maxObj uint64, minType, maxType uint32, fn func(Item) error) error {
	var a searchArgs
	a.Key = searchKey{
		TreeID:      tree,
		MinObjectID: minObj,
		MaxObjectID: maxObj,
		MinType:     minType,
		MaxType:     maxType,
		MaxOffset:   ^uint64(0),
		MaxTransid:  ^uint64(0),
	}
	for {
		a.Key.NrItems = 4096
		if err := ioctl(fd, iocTreeSearch, unsafe.Pointer(&a)); err != nil {
			return err
		}
		n := a.Key.NrItems
		if n == 0 {
			return nil
		}
		var h searchHeader
		off := 0
		for range n {
			h = searchHeader{
				Transid:  binary.NativeEndian.Uint64(a.Buf[off:]),
				ObjectID: binary.NativeEndian.Uint64(a.Buf[off+8:]),
				Offset:   binary.NativeEndian.Uint64(a.Buf[off+16:]),
				Type:     binary.NativeEndian.Uint32(a.Buf[off+24:]),
				Len:      binary.NativeEndian.Uint32(a.Buf[off+28:]),
			}
			off += searchHdrSize
			data := a.Buf[off : off+int(h.Len)]
			off += int(h.Len)
			if err := fn(Item{ObjectID: h.ObjectID, Type: h.Type, Offset: h.Offset, Data: data}); err != nil {
				return err
			}
		}
		// Continue after the last key.
		switch {
		case h.Offset < ^uint64(0):
			a.Key.MinObjectID, a.Key.MinType, a.Key.MinOffset = h.ObjectID, h.Type, h.Offset+1
		case h.Type < 255:
			a.Key.MinObjectID, a.Key.MinType, a.Key.MinOffset = h.ObjectID, h.Type+1, 0
		case h.ObjectID < maxObj:
			a.Key.MinObjectID, a.Key.MinType, a.Key.MinOffset = h.ObjectID+1, 0, 0
		default:
			return nil
		}
		if a.Key.MinObjectID > maxObj {
			return nil
		}
	}
}

// Ref is a link of a subvolume into its parent (a ROOT_REF or
// ROOT_BACKREF item): it lives in directory DirID of subvolume ParentID
// under Name.
type Ref struct {
	ID       uint64
	ParentID uint64
	DirID    uint64
	Name     string
}

// parseRef decodes struct btrfs_root_ref: dirid, sequence, name_len, name.
func parseRef(id, parent uint64, d []byte) (Ref, bool) {
	if len(d) < 18 {
		return Ref{}, false
	}
	n := int(binary.LittleEndian.Uint16(d[16:]))
	if len(d) < 18+n {
		return Ref{}, false
	}
	return Ref{ID: id, ParentID: parent, DirID: binary.LittleEndian.Uint64(d), Name: string(d[18 : 18+n])}, true
}

// Subvolume is one entry of List.
type Subvolume struct {
	ID         uint64
	ParentID   uint64
	Generation uint64
	ReadOnly   bool
	UUID       UUID
	Path       string // from the top-level subvolume
	ref        Ref
}

// root_item offsets (struct btrfs_root_item is packed).
const (
	rootItemGeneration = 160
	rootItemFlags      = 208
	rootItemUUID       = 247
)

// List returns every subvolume of the filesystem that fd is on, except
// the top level, sorted by ID. Needs CAP_SYS_ADMIN.
func List(fd int) ([]Subvolume, error) {
	byID := map[uint64]*Subvolume{}
	get := func(id uint64) *Subvolume {
		s := byID[id]
		if s == nil {
			s = &Subvolume{ID: id}
			byID[id] = s
		}
		return s
	}
	err := Search(fd, RootTreeID, FirstFreeID, lastFreeID, rootItemKey, rootBackref, func(it Item) error {
		switch it.Type {
		case rootItemKey:
			if len(it.Data) < rootItemFlags+8 {
				return nil
			}
			s := get(it.ObjectID)
			s.Generation = binary.LittleEndian.Uint64(it.Data[rootItemGeneration:])
			s.ReadOnly = binary.LittleEndian.Uint64(it.Data[rootItemFlags:])&rootSubvolRdonl != 0
			if len(it.Data) >= rootItemUUID+uuidSize {
				copy(s.UUID[:], it.Data[rootItemUUID:])
			}
		case rootBackref:
			if r, ok := parseRef(it.ObjectID, it.Offset, it.Data); ok {
				s := get(it.ObjectID)
				s.ref, s.ParentID = r, r.ParentID
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Subvolume
	for _, s := range byID {
		if s.ParentID == 0 {
			continue // a deleted subvolume not yet cleaned: no backref
		}
		p, err := pathOf(fd, s.ID, byID)
		if err != nil {
			return nil, err
		}
		s.Path = p
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// pathOf builds the path of subvolume id from the top level, following
// the backrefs in byID and looking up each directory in its parent.
func pathOf(fd int, id uint64, byID map[uint64]*Subvolume) (string, error) {
	s := byID[id]
	if s == nil || s.ParentID == 0 {
		return "", nil
	}
	if s.Path != "" {
		return s.Path, nil
	}
	dir, err := InoLookup(fd, s.ref.ParentID, s.ref.DirID)
	if err != nil {
		return "", err
	}
	p := dir + s.ref.Name
	if s.ref.ParentID != FSTreeID {
		pp, err := pathOf(fd, s.ref.ParentID, byID)
		if err != nil {
			return "", err
		}
		p = pp + "/" + p
	}
	s.Path = p
	return p, nil
}

// Children returns the subvolumes directly inside subvolume id, each with
// its path relative to the root of id. Needs CAP_SYS_ADMIN.
func Children(fd int, id uint64) ([]Ref, error) {
	var refs []Ref
	err := Search(fd, RootTreeID, id, id, rootRefKey, rootRefKey, func(it Item) error {
		if it.Type != rootRefKey || it.ObjectID != id {
			return nil
		}
		if r, ok := parseRef(it.Offset, id, it.Data); ok {
			refs = append(refs, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, r := range refs {
		dir, err := InoLookup(fd, id, r.DirID)
		if err != nil {
			return nil, err
		}
		refs[i].Name = dir + r.Name
	}
	return refs, nil
}

// Path returns the path of subvolume id from the top level ("" for the
// top level itself). Needs CAP_SYS_ADMIN.
func Path(fd int, id uint64) (string, error) {
	p := ""
	for id != FSTreeID {
		var ref Ref
		found := false
		err := Search(fd, RootTreeID, id, id, rootBackref, rootBackref, func(it Item) error {
			if it.Type == rootBackref && !found {
				ref, found = parseRef(it.ObjectID, it.Offset, it.Data)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		if !found {
			return "", ErrNotSubvolume
		}
		dir, err := InoLookup(fd, ref.ParentID, ref.DirID)
		if err != nil {
			return "", err
		}
		if p == "" {
			p = dir + ref.Name
		} else {
			p = dir + ref.Name + "/" + p
		}
		id = ref.ParentID
	}
	return p, nil
}
