package classify

// Hashing and a small open-addressing table. The hot path looks words up by a
// 64-bit hash of their folded form instead of by string, so that classifying a
// message never builds strings or touches a Go map.

const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

// hashStep adds one byte to an FNV-1a hash.
func hashStep(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func hashBytes(b []byte) uint64 {
	h := fnvOffset
	for _, c := range b {
		h = hashStep(h, c)
	}
	return h
}

func hashString(s string) uint64 {
	h := fnvOffset
	for i := 0; i < len(s); i++ {
		h = hashStep(h, s[i])
	}
	return h
}

// combine chains token hashes into the hash of a token sequence. It is not
// commutative, so "x y" and "y x" differ.
func combine(a, b uint64) uint64 {
	a ^= b + 0x9e3779b97f4a7c15 + (a << 6) + (a >> 2)
	a *= 0xff51afd7ed558ccd
	return a ^ (a >> 33)
}

// u64Table maps non-zero 64-bit keys to uint32 values with linear probing.
// It is built once and then only read, so concurrent lookups are safe.
type u64Table struct {
	keys []uint64
	vals []uint32
	mask uint64
}

func newU64Table(n int) *u64Table {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return &u64Table{keys: make([]uint64, size), vals: make([]uint32, size), mask: uint64(size - 1)}
}

func fixKey(k uint64) uint64 {
	if k == 0 {
		return 1
	}
	return k
}

// slot returns the index holding k, or the empty slot where k belongs.
func (t *u64Table) slot(k uint64) uint64 {
	i := (k ^ (k >> 29)) & t.mask
	for t.keys[i] != 0 && t.keys[i] != k {
		i = (i + 1) & t.mask
	}
	return i
}

// or merges v into the value stored for k (bit sets) and inserts k if needed.
func (t *u64Table) or(k uint64, v uint32) {
	k = fixKey(k)
	i := t.slot(k)
	t.keys[i] = k
	t.vals[i] |= v
}

func (t *u64Table) put(k uint64, v uint32) {
	k = fixKey(k)
	i := t.slot(k)
	t.keys[i] = k
	t.vals[i] = v
}

func (t *u64Table) get(k uint64) (uint32, bool) {
	k = fixKey(k)
	i := (k ^ (k >> 29)) & t.mask
	for {
		switch t.keys[i] {
		case k:
			return t.vals[i], true
		case 0:
			return 0, false
		}
		i = (i + 1) & t.mask
	}
}
