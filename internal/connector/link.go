package connector

import "strings"

// ParseLinkHeader parses an RFC 8288 Link header into rel → URL, as used
// for pagination by Mastodon and others:
//
//	<https://x/api/v1/notifications?max_id=7>; rel="next", <…?min_id=9>; rel="prev"
func ParseLinkHeader(h string) map[string]string {
	out := map[string]string{}
	for _, part := range splitLinks(h) {
		part = strings.TrimSpace(part)
		if !strings.HasPrefix(part, "<") {
			continue
		}
		end := strings.IndexByte(part, '>')
		if end < 0 {
			continue
		}
		u := part[1:end]
		for _, p := range strings.Split(part[end+1:], ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || strings.TrimSpace(k) != "rel" {
				continue
			}
			for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
				out[rel] = u
			}
		}
	}
	return out
}

// splitLinks splits on commas outside <…>, since URLs may contain commas.
func splitLinks(h string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, h[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, h[start:])
}
