package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// bbolt's page layout, as far as checkPages reads it.
const (
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	elementSize      = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	bucketHeaderSize = 16 // root pgid u64, sequence u64
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01
	noFreelist       = ^uint64(0)
	maxCheckProblems = 100
)

// pageChecker walks the page tree of a bbolt file with plain reads, never
// through a memory map, so that no damage can fault: what bbolt's own
// tx.Check does, which runs in a goroutine of its own where a fault on a
// damaged page would end the process.
type pageChecker struct {
	f        *os.File
	size     int64
	pageSize int
	pgid     uint64 // high water mark
	seen     map[uint64]bool
	problems []string
}

func (c *pageChecker) addf(format string, args ...any) {
	if len(c.problems) < maxCheckProblems {
		c.problems = append(c.problems, fmt.Sprintf(format, args...))
	} else if len(c.problems) == maxCheckProblems {
		c.problems = append(c.problems, "more problems not listed")
	}
}

// checkPages checks the structure of the bbolt file at path: both meta
// pages, every page reachable from the root bucket (ids, types, element
// bounds, key order, data past the last element), and the freelist against
// the reachable pages. It returns one line per problem; none for a sound
// file.
func checkPages(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	c := &pageChecker{f: f, size: fi.Size(), seen: map[uint64]bool{}}
	m0, ok0, m1, ok1 := readMetas(f)
	meta, which, ok := currentMeta(m0, ok0, m1, ok1)
	switch {
	case !ok:
		c.addf("meta pages: neither is valid")
		return c.problems, nil
	case !ok0 || !ok1:
		c.addf("meta page %d: invalid; the store reads as of the transaction in meta page %d (txid %d), and a later write may be lost", 1-which, which, meta.txid)
	}
	if meta.pageSize < minPageSize || meta.pageSize > minPageSize<<maxPageShift {
		c.addf("meta page %d: page size %d out of range", which, meta.pageSize)
		return c.problems, nil
	}
	c.pageSize, c.pgid = int(meta.pageSize), meta.pgid
	if c.pgid > uint64(c.size) || int64(c.pgid)*int64(c.pageSize) > c.size {
		c.addf("file: %d bytes, shorter than the %d pages of %d bytes meta page %d counts", c.size, c.pgid, c.pageSize, which)
	}
	c.seen[0], c.seen[1] = true, true
	c.walk(meta.root, "root bucket", nil, nil)
	freelist := meta.freelist
	if freelist == noFreelist {
		return c.problems, nil
	}
	free, err := c.freelist(freelist)
	if err != nil {
		c.addf("freelist page %d: %v", freelist, err)
		return c.problems, nil
	}
	freed := map[uint64]bool{}
	for _, id := range free {
		freed[id] = true
		if c.seen[id] {
			c.addf("page %d: both in use and free (a later write would overwrite it)", id)
		}
	}
	for id := uint64(0); id < c.pgid; id++ {
		if !c.seen[id] && !freed[id] {
			c.addf("page %d: neither reachable nor free", id)
		}
	}
	return c.problems, nil
}

// page reads page id with its overflow pages; nil after reporting a
// problem.
func (c *pageChecker) page(id uint64, where string) []byte {
	if id < 2 || id >= c.pgid {
		c.addf("%s: page id %d out of range (2 to %d)", where, id, c.pgid-1)
		return nil
	}
	hdr := make([]byte, pageHeaderSize)
	if _, err := c.f.ReadAt(hdr, int64(id)*int64(c.pageSize)); err != nil {
		c.addf("%s: page %d: cannot be read: %v", where, id, err)
		return nil
	}
	if got := binary.LittleEndian.Uint64(hdr); got != id {
		c.addf("%s: page %d: header says page %d", where, id, got)
		return nil
	}
	overflow := uint64(binary.LittleEndian.Uint32(hdr[12:]))
	if id+overflow >= c.pgid {
		c.addf("%s: page %d: %d overflow pages run past the last page", where, id, overflow)
		return nil
	}
	p := make([]byte, (overflow+1)*uint64(c.pageSize))
	if _, err := c.f.ReadAt(p, int64(id)*int64(c.pageSize)); err != nil && !errors.Is(err, io.EOF) {
		c.addf("%s: page %d: cannot be read: %v", where, id, err)
		return nil
	}
	for i := id; i <= id+overflow; i++ {
		if c.seen[i] {
			c.addf("%s: page %d: reached twice", where, i)
			return nil
		}
		c.seen[i] = true
	}
	return p
}

// walk checks the subtree at page id, whose keys must lie in [lo, hi)
// (nil: unbounded).
func (c *pageChecker) walk(id uint64, where string, lo, hi []byte) {
	p := c.page(id, where)
	if p == nil {
		return
	}
	c.node(p, fmt.Sprintf("%s: page %d", where, id), lo, hi)
}

// node checks page p (a branch or leaf page, or an inline bucket's page).
func (c *pageChecker) node(p []byte, where string, lo, hi []byte) {
	le := binary.LittleEndian
	flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
	if flags != branchPageFlag && flags != leafPageFlag {
		c.addf("%s: type %#x, not a branch or leaf page", where, flags)
		return
	}
	if pageHeaderSize+count*elementSize > len(p) {
		c.addf("%s: %d elements do not fit", where, count)
		return
	}
	if count == 0 && flags == branchPageFlag {
		c.addf("%s: empty branch page", where)
		return
	}
	end := pageHeaderSize + count*elementSize
	var prev []byte
	for i := range count {
		e := pageHeaderSize + i*elementSize
		var pos, ksize, vsize int
		if flags == branchPageFlag {
			pos, ksize = int(le.Uint32(p[e:])), int(le.Uint32(p[e+4:]))
		} else {
			pos, ksize, vsize = int(le.Uint32(p[e+4:])), int(le.Uint32(p[e+8:])), int(le.Uint32(p[e+12:]))
		}
		start := e + pos
		if pos < 0 || start+ksize+vsize > len(p) || start < pageHeaderSize+count*elementSize {
			c.addf("%s: element %d: key and value outside the page", where, i)
			return
		}
		key := p[start : start+ksize]
		val := p[start+ksize : start+ksize+vsize]
		end = max(end, start+ksize+vsize)
		if prev != nil && bytes.Compare(prev, key) >= 0 {
			c.addf("%s: element %d: keys out of order", where, i)
			return
		}
		if (lo != nil && bytes.Compare(key, lo) < 0) || (hi != nil && bytes.Compare(key, hi) >= 0) {
			c.addf("%s: element %d: key outside the range its parent gives", where, i)
			return
		}
		prev = key
		if flags == branchPageFlag {
			var next []byte
			if i+1 < count {
				e2 := e + elementSize
				p2, k2 := int(le.Uint32(p[e2:])), int(le.Uint32(p[e2+4:]))
				if e2+p2+k2 <= len(p) && p2 >= 0 {
					next = p[e2+p2 : e2+p2+k2]
				}
			} else {
				next = hi
			}
			c.walk(le.Uint64(p[e+8:]), fmt.Sprintf("%s element %d", where, i), key, next)
			continue
		}
		if le.Uint32(p[e:])&bucketLeafFlag == 0 {
			continue
		}
		inner := fmt.Sprintf("%s: bucket %q", where, key)
		if len(val) < bucketHeaderSize {
			c.addf("%s: bucket header cut short", inner)
			continue
		}
		if root := le.Uint64(val); root != 0 {
			c.walk(root, inner, nil, nil)
		} else if len(val) < bucketHeaderSize+pageHeaderSize {
			c.addf("%s: inline bucket cut short", inner)
		} else {
			c.node(val[bucketHeaderSize:], inner+" (inline)", nil, nil)
		}
	}
	if flags == leafPageFlag && end < len(p) && !allZero(p[end:]) {
		// bbolt writes pages from zeroed buffers: bytes past the last
		// element's data mean elements were lost (a damaged count).
		c.addf("%s: data past the last of its %d elements (its element count is damaged?)", where, count)
	}
}

// freelist reads the ids of the freelist page id.
func (c *pageChecker) freelist(id uint64) ([]uint64, error) {
	if id < 2 || id >= c.pgid {
		return nil, fmt.Errorf("out of range (2 to %d)", c.pgid-1)
	}
	p := c.page(id, "freelist")
	if p == nil {
		return nil, errors.New("unreadable")
	}
	le := binary.LittleEndian
	if le.Uint16(p[8:])&freelistPageFlag == 0 {
		return nil, fmt.Errorf("type %#x, not a freelist page", le.Uint16(p[8:]))
	}
	count, off := uint64(le.Uint16(p[10:])), pageHeaderSize
	if count == 0xFFFF {
		if len(p) < off+8 {
			return nil, errors.New("cut short")
		}
		count, off = le.Uint64(p[off:]), off+8
	}
	if count > uint64(len(p)-off)/8 {
		return nil, fmt.Errorf("%d ids do not fit", count)
	}
	ids := make([]uint64, count)
	for i := range ids {
		ids[i] = le.Uint64(p[off+8*i:])
		if ids[i] < 2 || ids[i] >= c.pgid {
			return nil, fmt.Errorf("free page id %d out of range", ids[i])
		}
		if i > 0 && ids[i] <= ids[i-1] {
			return nil, fmt.Errorf("free page ids out of order or repeated at %d", ids[i])
		}
	}
	return ids, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
