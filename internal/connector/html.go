package connector

import (
	"html"
	"strings"
)

// HTMLToText turns the small HTML platforms put in post bodies (Mastodon
// status content, feed descriptions) into plain text for the inbox and the
// classifier: tags dropped, <br> and block ends as line breaks, script and
// style skipped, entities decoded, runs of blank lines collapsed.
func HTMLToText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	skip := "" // inside <script> or <style>
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			if skip == "" {
				b.WriteString(s)
			}
			break
		}
		if skip == "" {
			b.WriteString(s[:i])
		}
		s = s[i:]
		j := strings.IndexByte(s, '>')
		if j < 0 {
			if skip == "" {
				b.WriteString(s) // a lone "<" is text
			}
			break
		}
		tag := strings.ToLower(strings.TrimSpace(s[1:j]))
		s = s[j+1:]
		closing := strings.HasPrefix(tag, "/")
		name := strings.TrimPrefix(tag, "/")
		if k := strings.IndexAny(name, " \t\n/"); k >= 0 {
			name = name[:k]
		}
		if skip != "" {
			if closing && name == skip {
				skip = ""
			}
			continue
		}
		switch name {
		case "script", "style":
			if !closing {
				skip = name
			}
		case "br":
			b.WriteByte('\n')
		case "p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr":
			if closing {
				b.WriteString("\n\n")
			}
		}
	}
	text := html.UnescapeString(b.String())
	lines := strings.Split(text, "\n")
	out := make([]string, 0, len(lines))
	blank := 0
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			blank++
			if blank > 1 || len(out) == 0 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
