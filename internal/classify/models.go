package classify

import "strings"

// Model-name extraction. The catalogue is compiled into hash tables keyed by
// token sequences, so matching costs one bit test per word plus a few table
// probes where a word can start a model name.

const (
	afNumeric    uint8 = 1 << iota // name made only of digits ("2002", "120")
	afLetters                      // name made only of letters ("Ghost"): needs a capital
	afAmbiguous                    // Model.Ambiguous
	afNeedsBrand                   // Model.NeedsBrand
	afChassis                      // a chassis code, not a model
	afCode                         // single token mixing letters and digits ("M2", "X5")
)

type aliasInfo struct {
	brand int16
	model int16
	ntok  uint8
	flags uint8
	key   uint64 // identifies the model for NotBefore lookups
}

type modelIndex struct {
	first      []uint64 // bit set over first-token hashes
	aliases    *u64Table
	infos      []aliasInfo
	maxTok     int
	variants   *u64Table // combine(brandKey, seq) -> token count
	maxVarTok  int
	prefixes   *u64Table // seq -> bit set of brands
	notBefore  *u64Table // combine(model key, word) -> 1
	engine     []bool
	keepPrefix []bool
	oneLetter  *u64Table // combine(brandKey, word) for one-letter variants (capitals only)
}

const firstBits = 1 << 16

func (ix *modelIndex) mayStart(h uint64) bool {
	b := h & (firstBits - 1)
	return ix.first[b>>6]&(1<<(b&63)) != 0
}

func brandKey(b int) uint64 { return uint64(b+1) * 0x9e3779b97f4a7c15 }

// wordHashes tokenizes a catalogue entry the same way messages are tokenized.
func wordHashes(s string) []token {
	sc := &scratch{}
	tokenize(s, sc)
	out := sc.toks[:0]
	for _, t := range sc.toks {
		if t.kind == tkWord {
			out = append(out, t)
		}
	}
	return out
}

func seqHash(ts []token) uint64 {
	h := ts[0].h
	for _, t := range ts[1:] {
		h = combine(h, t.h)
	}
	return h
}

func compileCatalogue(cat Catalogue) *modelIndex {
	ix := &modelIndex{first: make([]uint64, firstBits/64)}
	nAlias, nVar := 0, 0
	for _, b := range cat.Brands {
		nAlias += len(b.Chassis)
		nVar += len(b.Variants)
		for _, m := range b.Models {
			nAlias += 1 + len(m.Aliases)
		}
	}
	ix.aliases = newU64Table(nAlias)
	ix.variants = newU64Table(nVar)
	ix.oneLetter = newU64Table(nVar)
	ix.prefixes = newU64Table(64)
	ix.notBefore = newU64Table(256)
	addAlias := func(s string, info aliasInfo) {
		ts := wordHashes(s)
		if len(ts) == 0 {
			return
		}
		info.ntok = uint8(len(ts))
		digits, letters := true, true
		for _, t := range ts {
			if t.flags&tfAllDigit == 0 {
				digits = false
			}
			if t.flags&tfDigit != 0 {
				letters = false
			}
		}
		if digits {
			info.flags |= afNumeric
		}
		if letters {
			info.flags |= afLetters
		}
		if len(ts) == 1 && !digits && !letters {
			info.flags |= afCode
		}
		h := seqHash(ts)
		if _, dup := ix.aliases.get(h); dup {
			return // first entry wins
		}
		ix.aliases.put(h, uint32(len(ix.infos)))
		ix.infos = append(ix.infos, info)
		if len(ts) > ix.maxTok {
			ix.maxTok = len(ts)
		}
		b := ts[0].h & (firstBits - 1)
		ix.first[b>>6] |= 1 << (b & 63)
	}
	for bi, b := range cat.Brands {
		ix.engine = append(ix.engine, b.EngineCodes)
		ix.keepPrefix = append(ix.keepPrefix, b.KeepPrefix)
		for _, p := range b.Prefixes {
			if ts := wordHashes(p); len(ts) > 0 && len(ts) <= 2 {
				ix.prefixes.or(seqHash(ts), 1<<uint(bi%32))
			}
		}
		for mi, m := range b.Models {
			info := aliasInfo{brand: int16(bi), model: int16(mi), key: combine(brandKey(bi), hashString(m.Name))}
			if m.Ambiguous {
				info.flags |= afAmbiguous
			}
			if m.NeedsBrand {
				info.flags |= afNeedsBrand
			}
			addAlias(m.Name, info)
			for _, a := range m.Aliases {
				addAlias(a, info)
			}
			for _, w := range m.NotBefore {
				for _, t := range wordHashes(w) {
					ix.notBefore.put(combine(info.key, t.h), 1)
				}
			}
		}
		for _, c := range b.Chassis {
			addAlias(c, aliasInfo{brand: int16(bi), model: -1, flags: afChassis})
		}
		for _, v := range b.Variants {
			ts := wordHashes(v)
			if len(ts) == 0 {
				continue
			}
			if len(ts) == 1 && ts[0].e-ts[0].s == 1 {
				ix.oneLetter.put(combine(brandKey(bi), ts[0].h), 1)
				continue
			}
			ix.variants.put(combine(brandKey(bi), seqHash(ts)), uint32(len(ts)))
			if len(ts) > ix.maxVarTok {
				ix.maxVarTok = len(ts)
			}
		}
	}
	return ix
}

// Words after which an ambiguous name ("2002", "GS", "Cooper") is taken as a
// model: articles, possessives and a few adjectives that sit between them
// and the name ("my old Clubman", "den neuen M5").
var determinerList = []string{
	"the", "a", "an", "my", "your", "his", "her", "our", "their", "this", "that", "its", "new", "old", "first",
	"der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines", "mein", "meine",
	"meinen", "meinem", "meiner", "meines", "dein", "deine", "deinen", "deinem", "sein", "seine", "seinen",
	"seinem", "ihr", "ihre", "ihren", "ihrem", "unser", "unsere", "unseren", "unserem", "euer", "eure", "euren",
	"neue", "neuen", "neuer", "neues", "alte", "alten", "alter", "altes", "ersten", "erste",
	"le", "la", "les", "l", "un", "une", "mon", "ma", "mes", "ton", "ta", "son", "sa", "notre", "votre", "leur",
	"du", "nouvelle", "nouveau", "vieille",
	"el", "los", "las", "mi", "mis", "tu", "su", "sus", "nuestro", "nuestra", "nueva", "nuevo", "vieja",
	"il", "lo", "gli", "mio", "mia", "tuo", "tua", "suo", "nostro", "nostra", "della", "dello", "nuova", "nuovo",
	"vecchia", "het", "een", "mijn", "jouw", "zijn", "haar", "onze", "nieuwe", "oude",
	"o", "os", "um", "uma", "meu", "minha", "teu", "seu", "nosso", "nossa", "do", "da", "nova", "novo", "velha",
	"moj", "moja", "moje", "mojego", "moim", "mojej", "twoj", "jego", "jej", "nasz", "naszego", "nowe", "nowy",
	"nowa", "stara", "stary",
}

// Words after a bare number that show it is a quantity, not a model ("120 km").
var unitList = []string{
	"km", "kms", "mi", "miles", "mile", "kw", "kwh", "ps", "hp", "bhp", "cv", "ch", "pk", "nm", "kg", "t", "l",
	"ltr", "liter", "litre", "litres", "mph", "kmh", "cc", "ccm", "eur", "euro", "euros", "usd", "dollar",
	"dollars", "pounds", "gbp", "chf", "pln", "zl", "k", "tkm", "jahre", "jahren", "years", "year", "ans", "anos",
	"anni", "jaar", "lat", "monate", "monaten", "months", "mois", "meses", "mesi", "maanden", "miesiecy", "tage",
	"tagen", "days", "jours", "dias", "giorni", "dagen", "dni", "minuten", "minutes", "min", "stunden", "hours",
	"h", "mal", "times", "fois", "veces", "volte", "keer", "razy", "vezes", "stuck", "units", "exemplare",
	"prozent", "percent", "exemplaires", "unidades", "esemplari", "seconds", "sekunden", "s", "m", "cm", "mm",
	"followers", "follower", "likes", "views", "people", "leute", "personen",
}

var (
	determiners = hashSet(determinerList)
	units       = hashSet(unitList)
)

func hashSet(words []string) *u64Table {
	t := newU64Table(len(words))
	for _, w := range words {
		for _, tk := range wordHashes(w) {
			t.put(tk.h, 1)
		}
	}
	return t
}

// isEngineCode recognises drive and engine designations that extend a model
// name: "xDrive", "xDrive30d", "eDrive40", "sDrive18d", "M60i", "M50", "30e".
func isEngineCode(b []byte) bool {
	prefixed := false
	for _, p := range [...]string{"xdrive", "sdrive", "edrive"} {
		if len(b) >= len(p) && string(b[:len(p)]) == p {
			b = b[len(p):]
			if len(b) == 0 {
				return true
			}
			prefixed = true
			break
		}
	}
	if !prefixed && len(b) > 0 && b[0] == 'm' {
		b = b[1:]
		prefixed = true
	}
	if len(b) < 2 || !isDigitByte(b[0]) || !isDigitByte(b[1]) {
		return false
	}
	switch string(b[2:]) {
	case "":
		return prefixed
	case "i", "d", "e", "li", "le", "ld":
		return true
	}
	return false
}

// brandBefore returns the brands whose prefix ends just before token i, and
// where the prefix starts.
func (ix *modelIndex) brandBefore(toks []token, i int) (uint32, int) {
	if i == 0 || toks[i].flags&tfBreak != 0 {
		return 0, i
	}
	p := toks[i-1]
	if p.kind != tkWord || p.flags&tfFirstUpper == 0 {
		return 0, i
	}
	if i >= 2 && toks[i-2].kind == tkWord && p.flags&tfBreak == 0 {
		if m, ok := ix.prefixes.get(combine(toks[i-2].h, p.h)); ok && toks[i-2].flags&tfFirstUpper != 0 {
			return m, i - 2
		}
	}
	if m, ok := ix.prefixes.get(p.h); ok {
		return m, i - 1
	}
	return 0, i
}

// variantAt returns how many tokens from i form a variant of brand b.
func (ix *modelIndex) variantAt(toks []token, fold []byte, i int, b int) int {
	n := len(toks)
	if i >= n || toks[i].kind != tkWord || toks[i].flags&(tfBreak|tfHashtag) != 0 {
		return 0
	}
	h := toks[i].h
	best := 0
	for l := 1; l <= ix.maxVarTok && i+l <= n; l++ {
		if l > 1 {
			t := toks[i+l-1]
			if t.kind != tkWord || t.flags&tfBreak != 0 {
				break
			}
			h = combine(h, t.h)
		}
		if v, ok := ix.variants.get(combine(brandKey(b), h)); ok && int(v) == l {
			best = l
		}
	}
	if best > 0 {
		return best
	}
	t := toks[i]
	if t.e-t.s == 1 && t.flags&tfUpper != 0 {
		if _, ok := ix.oneLetter.get(combine(brandKey(b), t.h)); ok {
			return 1
		}
	}
	if ix.engine[b] && isEngineCode(fold[t.fs:t.fe]) {
		return 1
	}
	return 0
}

// matchAt finds the longest valid catalogue name starting at token i and
// returns its info index and last token, or -1.
func (ix *modelIndex) matchAt(text string, toks []token, fold []byte, i int) (int, int) {
	n := len(toks)
	t := toks[i]
	if t.kind != tkWord || !ix.mayStart(t.h) {
		return -1, i
	}
	h := t.h
	best, bestEnd := -1, i
	for l := 1; l <= ix.maxTok && i+l <= n; l++ {
		j := i + l - 1
		if l > 1 {
			if toks[j].kind != tkWord || toks[j].flags&tfBreak != 0 {
				break
			}
			h = combine(h, toks[j].h)
		}
		v, ok := ix.aliases.get(h)
		if !ok || int(ix.infos[v].ntok) != l {
			continue
		}
		if ix.valid(text, toks, fold, int(v), i, j) {
			best, bestEnd = int(v), j
		}
	}
	return best, bestEnd
}

func (ix *modelIndex) valid(text string, toks []token, fold []byte, v, i, j int) bool {
	info := ix.infos[v]
	first := toks[i]
	if info.flags&afLetters != 0 && first.flags&tfUpper == 0 {
		return false // "ghost", "dawn", "one" in running text
	}
	if info.flags&afCode != 0 && first.flags&tfUpper == 0 && !isDigitByte(text[first.s]) && i > 0 &&
		toks[i-1].kind == tkWord && toks[i-1].flags&tfAllDigit != 0 {
		return false // "50 m2"
	}
	if j+1 < len(toks) && info.model >= 0 && toks[j+1].kind == tkWord {
		if _, ok := ix.notBefore.get(combine(info.key, toks[j+1].h)); ok {
			return false // "M4 motorway"
		}
	}
	brands, _ := ix.brandBefore(toks, i)
	if info.flags&afNeedsBrand != 0 {
		return brands&(1<<uint(int(info.brand)%32)) != 0
	}
	if info.flags&(afAmbiguous|afNumeric) == 0 {
		return true
	}
	if info.flags&afNumeric != 0 {
		if j+1 < len(toks) {
			nx := toks[j+1]
			if nx.kind == tkMoney {
				return false
			}
			if nx.kind == tkWord && nx.flags&tfBreak == 0 {
				if _, ok := units.get(nx.h); ok {
					return false
				}
			}
		}
		if e := int(toks[j].e); e < len(text) && (text[e] == '%' || e+1 < len(text) && text[e] == ' ' && text[e+1] == '%') {
			return false
		}
	}
	if brands != 0 || ix.variantAt(toks, fold, j+1, int(info.brand)) > 0 {
		return true
	}
	if i > 0 && first.flags&tfBreak == 0 {
		p := toks[i-1]
		if p.kind == tkWord {
			if _, ok := determiners.get(p.h); ok {
				return true
			}
		}
	}
	return false
}

// span is a model name found in a message: tokens a..b inclusive.
type span struct{ a, b int32 }

// extract appends the model names found in toks to spans.
func (ix *modelIndex) extract(text string, toks []token, fold []byte, spans []span) []span {
	n := len(toks)
	for i := 0; i < n; i++ {
		v, end := ix.matchAt(text, toks, fold, i)
		if v < 0 {
			continue
		}
		info := ix.infos[v]
		start := i
		if info.flags&afChassis != 0 {
			// "E30 M3 Sport Evolution": the code belongs to the following model.
			if end+1 < n && toks[end+1].flags&tfBreak == 0 {
				if v2, end2 := ix.matchAt(text, toks, fold, end+1); v2 >= 0 && ix.infos[v2].flags&afChassis == 0 {
					v, end, info = v2, end2, ix.infos[v2]
				}
			}
		}
		for {
			l := ix.variantAt(toks, fold, end+1, int(info.brand))
			if l == 0 {
				break
			}
			end += l
		}
		if ix.keepPrefix[info.brand] {
			if brands, from := ix.brandBefore(toks, start); brands&(1<<uint(int(info.brand)%32)) != 0 {
				start = from
			}
		}
		spans = append(spans, span{int32(start), int32(end)})
		i = end
	}
	return spans
}

// appendModelNames converts spans to the names as written, without duplicates.
func appendModelNames(dst []string, text string, toks []token, spans []span) []string {
outer:
	for _, sp := range spans {
		name := text[toks[sp.a].s:toks[sp.b].e]
		for _, d := range dst {
			if strings.EqualFold(d, name) {
				continue outer
			}
		}
		dst = append(dst, name)
	}
	return dst
}
