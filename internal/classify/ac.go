package classify

import "fmt"

// An Aho-Corasick automaton finds every lexicon phrase in one left-to-right
// pass over the folded message, however many phrases there are. The alphabet
// is reduced to the bytes the folded text is made of (a-z, 0-9, space, ? and
// !); any other byte (non-Latin scripts) falls into one shared class.

const acClasses = 40

var acClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = uint8(1 + c - 'a')
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(27 + c - '0')
	}
	t[' '] = 37
	t['?'] = 38
	t['!'] = 39
	return
}()

// cueBits is a set of cue indices.
type cueBits [2]uint64

func (b *cueBits) set(i int)     { b[i>>6] |= 1 << (i & 63) }
func (b *cueBits) or(o *cueBits) { b[0] |= o[0]; b[1] |= o[1] }
func (b *cueBits) empty() bool   { return b[0]|b[1] == 0 }

// acOut marks transitions into a state where a phrase ends, so that the scan
// reads the output table only then.
const acOut = 1 << 15

type acAutomaton struct {
	delta   []uint16 // state*acClasses + class -> state, | acOut if phrases end there
	outIdx  []uint16 // state -> index in outSets (0: no match ends here)
	outSets []cueBits
}

// buildAC compiles folded patterns (already padded with spaces for word
// boundaries) with the cue each one signals.
func buildAC(pats []string, cues []int) *acAutomaton {
	type node struct {
		next [acClasses]int32
		out  cueBits
	}
	newNode := func() node {
		var n node
		for i := range n.next {
			n.next[i] = -1
		}
		return n
	}
	nodes := []node{newNode()}
	for pi, p := range pats {
		s := 0
		for i := 0; i < len(p); i++ {
			c := acClass[p[i]]
			if nodes[s].next[c] < 0 {
				nodes[s].next[c] = int32(len(nodes))
				nodes = append(nodes, newNode())
			}
			s = int(nodes[s].next[c])
		}
		nodes[s].out.set(cues[pi])
	}
	if len(nodes) >= acOut {
		panic(fmt.Sprintf("classify: lexicon automaton has %d states, more than fit in 15 bits", len(nodes)))
	}
	fail := make([]int32, len(nodes))
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < acClasses; c++ {
		if v := nodes[0].next[c]; v >= 0 {
			fail[v] = 0
			queue = append(queue, v)
		} else {
			nodes[0].next[c] = 0
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		u := queue[qi]
		nodes[u].out.or(&nodes[fail[u]].out)
		for c := 0; c < acClasses; c++ {
			if v := nodes[u].next[c]; v >= 0 {
				fail[v] = nodes[fail[u]].next[c]
				queue = append(queue, v)
			} else {
				nodes[u].next[c] = nodes[fail[u]].next[c]
			}
		}
	}
	a := &acAutomaton{
		delta:   make([]uint16, len(nodes)*acClasses),
		outIdx:  make([]uint16, len(nodes)),
		outSets: []cueBits{{}},
	}
	seen := map[cueBits]uint16{{}: 0}
	for i := range nodes {
		for c := 0; c < acClasses; c++ {
			next := nodes[i].next[c]
			a.delta[i*acClasses+c] = uint16(next)
			if !nodes[next].out.empty() {
				a.delta[i*acClasses+c] |= acOut
			}
		}
		o := nodes[i].out
		idx, ok := seen[o]
		if !ok {
			idx = uint16(len(a.outSets))
			a.outSets = append(a.outSets, o)
			seen[o] = idx
		}
		a.outIdx[i] = idx
	}
	return a
}

// scan adds the cues of all phrases occurring in text to bits.
func (a *acAutomaton) scan(text []byte, bits *cueBits) {
	s := 0
	delta := a.delta
	for _, b := range text {
		d := delta[s*acClasses+int(acClass[b])]
		s = int(d &^ acOut)
		if d&acOut != 0 {
			bits.or(&a.outSets[a.outIdx[s]])
		}
	}
}
