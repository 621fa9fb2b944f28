package transcode

import (
	"google.golang.org/protobuf/reflect/protoreflect"
)

// nameTable maps names to small integers with open addressing: a lookup
// by []byte hashes a few bytes and compares one or two strings, with no
// allocation (a map[string] lookup hashes every byte through the runtime).
type nameTable struct {
	mask  uint32
	slots []nameSlot
}

type nameSlot struct {
	name string
	val  int32
	used bool
}

// nameHash mixes the length and three bytes of a name: field and enum
// names differ there almost always, probes compare whole strings anyway,
// and hashing every byte cost a fifth of JSON decoding.
func nameHash[S string | []byte](b S) uint32 {
	n := len(b)
	if n == 0 {
		return 0
	}
	h := uint32(n)*0x9E3779B1 ^ uint32(b[0])*0x85EBCA77 ^ uint32(b[n-1])*0xC2B2AE3D ^ uint32(b[n/2])*0x27D4EB2F
	return h ^ h>>15
}

// newNameTable builds a table; the first occurrence of a duplicate key wins.
func newNameTable(keys []string, vals []int32) nameTable {
	n := uint32(4)
	for n < uint32(2*len(keys)) {
		n <<= 1
	}
	t := nameTable{mask: n - 1, slots: make([]nameSlot, n)}
	for i, k := range keys {
		j := nameHash(k) & t.mask
		for t.slots[j].used && t.slots[j].name != k {
			j = (j + 1) & t.mask
		}
		if !t.slots[j].used {
			t.slots[j] = nameSlot{name: k, val: vals[i], used: true}
		}
	}
	return t
}

// find returns the value stored for name.
func (t *nameTable) find(name []byte) (int32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	j := nameHash(name) & t.mask
	for {
		s := &t.slots[j]
		if !s.used {
			return 0, false
		}
		if s.name == string(name) {
			return s.val, true
		}
		j = (j + 1) & t.mask
	}
}

// enumPlan holds an enum's name lookup and its precomputed JSON names.
type enumPlan struct {
	names  nameTable // value name -> number
	min    int32
	quoted [][]byte // number-min -> `"NAME"`, nil when the number has no name
	sparse map[int32][]byte
}

func newEnumPlan(ed protoreflect.EnumDescriptor) *enumPlan {
	vs := ed.Values()
	e := &enumPlan{}
	keys := make([]string, vs.Len())
	nums := make([]int32, vs.Len())
	lo, hi := int32(0), int32(0)
	for i := 0; i < vs.Len(); i++ {
		v := vs.Get(i)
		keys[i], nums[i] = string(v.Name()), int32(v.Number())
		if i == 0 || nums[i] < lo {
			lo = nums[i]
		}
		if i == 0 || nums[i] > hi {
			hi = nums[i]
		}
	}
	e.names = newNameTable(keys, nums)
	dense := int64(hi)-int64(lo) < 1024
	if dense {
		e.min, e.quoted = lo, make([][]byte, int64(hi)-int64(lo)+1)
	} else {
		e.sparse = map[int32][]byte{}
	}
	for i := 0; i < vs.Len(); i++ {
		n := nums[i]
		first := vs.ByNumber(protoreflect.EnumNumber(n)) // aliases print as the first name
		q := appendQuoted(nil, string(first.Name()))
		if dense {
			e.quoted[n-lo] = q
		} else {
			e.sparse[n] = q
		}
	}
	return e
}

// quotedName returns `"NAME"` for n, or nil if n has no name.
func (e *enumPlan) quotedName(n int32) []byte {
	if e.quoted != nil {
		i := int64(n) - int64(e.min)
		if i < 0 || i >= int64(len(e.quoted)) {
			return nil
		}
		return e.quoted[i]
	}
	return e.sparse[n]
}
