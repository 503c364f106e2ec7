package connector

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Text counting as each platform counts it. Platforms count differently
// and the composer must show the platform's own number, or posts that look
// fine are refused at publication time.

// CountChars counts Unicode code points (LinkedIn, Facebook, YouTube
// titles).
func CountChars(s string) int { return utf8.RuneCountInString(s) }

// CountGraphemes counts user-perceived characters (Bluesky's 300 limit).
// It approximates Unicode extended grapheme clusters (UAX #29) without
// tables: combining marks, variation selectors, emoji modifiers, tags,
// zero-width-joiner sequences, regional-indicator pairs, Hangul jamo and
// CR LF stay with the character before them. That covers the cases users
// write (accents, flags, family and skin-tone emoji).
func CountGraphemes(s string) int {
	n := 0
	forEachGrapheme(s, func(string) { n++ })
	return n
}

func forEachGrapheme(s string, f func(g string)) {
	start := 0
	var prev rune = -1
	joined := false // previous rune was ZWJ
	riOdd := false  // an unpaired regional indicator precedes
	for i, r := range s {
		if i > 0 && !extendsCluster(prev, r, joined, riOdd) {
			f(s[start:i])
			start = i
			riOdd = false
		}
		if isRegionalIndicator(r) {
			riOdd = !riOdd
		} else {
			riOdd = false
		}
		joined = r == 0x200D
		prev = r
	}
	if start < len(s) {
		f(s[start:])
	}
}

func extendsCluster(prev, r rune, joined, riOdd bool) bool {
	switch {
	case prev == '\r' && r == '\n':
		return true
	case joined && prev == 0x200D && !unicode.IsSpace(r):
		return true
	case r == 0x200D,
		unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc),
		r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF, // variation selectors
		r >= 0x1F3FB && r <= 0x1F3FF, // emoji skin-tone modifiers
		r >= 0xE0020 && r <= 0xE007F, // tag characters (subdivision flags)
		r >= 0x1160 && r <= 0x11FF:   // Hangul medial vowels and final consonants
		return true
	case isRegionalIndicator(r) && riOdd:
		return true
	}
	return false
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// MastodonURLLength is what every link counts as on Mastodon, however
// long it is.
const MastodonURLLength = 23

// CountMastodon counts as Mastodon does: grapheme clusters, every URL as
// 23 characters, and a remote mention @user@domain as its @user part only.
func CountMastodon(s string) int {
	n := 0
	last := 0
	for _, u := range FindURLs(s) {
		n += countMastodonPlain(s[last:u.Start]) + MastodonURLLength
		last = u.End
	}
	return n + countMastodonPlain(s[last:])
}

func countMastodonPlain(s string) int {
	// Drop the domain of remote mentions: "@alice@example.social" → "@alice".
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '@' && (i == 0 || !isWordByte(s[i-1])) {
			j := i + 1
			for j < len(s) && isMentionByte(s[j]) {
				j++
			}
			if j > i+1 && j < len(s) && s[j] == '@' {
				k := j + 1
				for k < len(s) && (isMentionByte(s[k]) || s[k] == '.' || s[k] == '-') {
					k++
				}
				if k > j+1 {
					b.WriteString(s[i:j])
					i = k
					continue
				}
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return CountGraphemes(b.String())
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isMentionByte(c byte) bool { return isWordByte(c) || c == '.' || c == '-' }

// XURLLength is what every link counts as on X.
const XURLLength = 23

// CountX counts X's weighted length (twitter-text configuration v3):
// Latin, common punctuation and a few symbol ranges weigh 1, everything
// else (CJK, most emoji) 2, an emoji sequence counts as one emoji (2), and
// every URL counts as 23. The limit is 280 on this scale.
func CountX(s string) int {
	n := 0
	last := 0
	for _, u := range FindURLs(s) {
		n += countXPlain(s[last:u.Start]) + XURLLength
		last = u.End
	}
	return n + countXPlain(s[last:])
}

func countXPlain(s string) int {
	n := 0
	forEachGrapheme(s, func(g string) {
		r, _ := utf8.DecodeRuneInString(g)
		if utf8.RuneCountInString(g) > 1 && isEmojiBase(r) {
			n += 2
			return
		}
		for _, r := range g {
			n += xWeight(r)
		}
	})
	return n
}

func isEmojiBase(r rune) bool {
	return r >= 0x1F000 || r >= 0x2600 && r <= 0x27BF || r >= 0x2300 && r <= 0x23FF
}

func xWeight(r rune) int {
	switch {
	case r <= 4351, r >= 8192 && r <= 8205, r >= 8208 && r <= 8223, r >= 8242 && r <= 8247:
		return 1
	}
	return 2
}

// Span is a byte range of a string: s[Start:End].
type Span struct {
	Start, End int
	Text       string
}

// FindURLs returns the http(s) URLs in s with their byte offsets (which
// Bluesky facets need), without trailing punctuation and without a closing
// parenthesis that has no opening one inside the URL.
func FindURLs(s string) []Span {
	var out []Span
	for i := 0; i < len(s); {
		j := indexScheme(s[i:])
		if j < 0 {
			break
		}
		start := i + j
		if start > 0 {
			if r, _ := utf8.DecodeLastRuneInString(s[:start]); unicode.IsLetter(r) || unicode.IsDigit(r) {
				i = start + 4
				continue
			}
		}
		end := start
		for end < len(s) {
			r, size := utf8.DecodeRuneInString(s[end:])
			if unicode.IsSpace(r) || r == '<' || r == '>' || r == '"' || r == '`' {
				break
			}
			end += size
		}
		end = trimURLEnd(s, start, end)
		if rest := s[start:end]; strings.Index(rest, "://")+3 < len(rest) {
			out = append(out, Span{Start: start, End: end, Text: rest})
		}
		i = max(end, start+4)
	}
	return out
}

func indexScheme(s string) int {
	h := strings.Index(s, "http://")
	hs := strings.Index(s, "https://")
	switch {
	case h < 0:
		return hs
	case hs < 0:
		return h
	}
	return min(h, hs)
}

func trimURLEnd(s string, start, end int) int {
	for end > start {
		c := s[end-1]
		if strings.IndexByte(".,;:!?'*", c) >= 0 {
			end--
			continue
		}
		if c == ')' && strings.Count(s[start:end], "(") < strings.Count(s[start:end], ")") {
			end--
			continue
		}
		break
	}
	return end
}

// ValidateText reports text longer than max as counted by count, and
// empty text when required.
func ValidateText(text string, max int, count func(string) int, required bool) []Problem {
	if strings.TrimSpace(text) == "" {
		if required {
			return []Problem{{Field: "text", Code: "required", Message: "text is required"}}
		}
		return nil
	}
	if max > 0 {
		if n := count(text); n > max {
			return []Problem{{Field: "text", Code: "too_long",
				Message: fmt.Sprintf("text is %d characters as this platform counts them; the limit is %d", n, max)}}
		}
	}
	return nil
}

// ValidateMedia checks attachments against a platform's media rules.
func ValidateMedia(rules MediaRules, media []Media, required bool) []Problem {
	var out []Problem
	if len(media) == 0 && required {
		return []Problem{{Field: "media", Code: "required", Message: "this platform needs an image or a video"}}
	}
	images, videos := 0, 0
	for i, m := range media {
		field := fmt.Sprintf("media[%d]", i)
		switch m.Kind {
		case MediaImage, MediaGIF:
			images++
			if len(rules.ImageTypes) > 0 && !slices.Contains(rules.ImageTypes, m.ContentType) {
				out = append(out, Problem{field, "media_type", fmt.Sprintf("image type %q is not accepted (accepted: %s)", m.ContentType, strings.Join(rules.ImageTypes, ", "))})
			}
			if rules.MaxImageBytes > 0 && m.Size > rules.MaxImageBytes {
				out = append(out, Problem{field, "media_size", fmt.Sprintf("image is %d bytes; the limit is %d", m.Size, rules.MaxImageBytes)})
			}
		case MediaVideo:
			videos++
			if len(rules.VideoTypes) > 0 && !slices.Contains(rules.VideoTypes, m.ContentType) {
				out = append(out, Problem{field, "media_type", fmt.Sprintf("video type %q is not accepted (accepted: %s)", m.ContentType, strings.Join(rules.VideoTypes, ", "))})
			}
			if rules.MaxVideoBytes > 0 && m.Size > rules.MaxVideoBytes {
				out = append(out, Problem{field, "media_size", fmt.Sprintf("video is %d bytes; the limit is %d", m.Size, rules.MaxVideoBytes)})
			}
			if m.Duration > 0 && rules.MaxVideoDuration > 0 && m.Duration > rules.MaxVideoDuration {
				out = append(out, Problem{field, "media_duration", fmt.Sprintf("video is %s long; the limit is %s", durationText(m.Duration), durationText(rules.MaxVideoDuration))})
			}
			if m.Duration > 0 && m.Duration < rules.MinVideoDuration {
				out = append(out, Problem{field, "media_duration", fmt.Sprintf("video is %s long; at least %s is needed", durationText(m.Duration), durationText(rules.MinVideoDuration))})
			}
		default:
			out = append(out, Problem{field, "media_type", fmt.Sprintf("unknown media kind %q", m.Kind)})
		}
		if rules.AltTextMax > 0 && CountChars(m.AltText) > rules.AltTextMax {
			out = append(out, Problem{field, "too_long", fmt.Sprintf("alt text is longer than %d characters", rules.AltTextMax)})
		}
	}
	if images > rules.MaxImages {
		out = append(out, Problem{"media", "too_many_media", fmt.Sprintf("%d images; this platform allows %d", images, rules.MaxImages)})
	}
	if videos > rules.MaxVideos {
		out = append(out, Problem{"media", "too_many_media", fmt.Sprintf("%d videos; this platform allows %d", videos, rules.MaxVideos)})
	}
	if images > 0 && videos > 0 && !rules.MixKinds {
		out = append(out, Problem{"media", "media_mix", "images and videos cannot be combined in one post here"})
	}
	return out
}

// durationText says a video length for people: "2.5 s", "15 min".
func durationText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.FormatFloat(math.Round(d.Seconds()*10)/10, 'f', -1, 64) + " s"
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d min %d s", int(d/time.Minute), int(d%time.Minute/time.Second))
}
