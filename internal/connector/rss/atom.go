package rss

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"time"
)

// OutFeed is an Atom feed the hub publishes (one per unit, of its
// published posts).
type OutFeed struct {
	// ID is the feed's permanent IRI, e.g. "tag:hub.example,2025:unit/bmw".
	ID       string
	Title    string
	Subtitle string
	// Link is the unit's HTML page; Self is the feed's own URL.
	Link, Self string
	Author     string
	// Updated defaults to the newest entry's Updated (or Published).
	Updated time.Time
	Entries []OutEntry
}

// OutEntry is one published post.
type OutEntry struct {
	ID         string // permanent IRI of the post
	Title      string
	Link       string // where the post can be read (platform URL or hub page)
	Published  time.Time
	Updated    time.Time // defaults to Published
	Author     string
	Text       string // plain text; escaped on output
	Categories []string
}

type xmlFeed struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID       string      `xml:"id"`
	Title    xmlText     `xml:"title"`
	Subtitle *xmlText    `xml:"subtitle,omitempty"`
	Updated  string      `xml:"updated"`
	Links    []atomLink  `xml:"link"`
	Author   *atomPerson `xml:"author,omitempty"`
	Entries  []xmlEntry  `xml:"entry"`
}

type xmlText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type xmlEntry struct {
	ID         string        `xml:"id"`
	Title      xmlText       `xml:"title"`
	Links      []atomLink    `xml:"link,omitempty"`
	Published  string        `xml:"published,omitempty"`
	Updated    string        `xml:"updated"`
	Author     *atomPerson   `xml:"author,omitempty"`
	Content    xmlText       `xml:"content"`
	Categories []xmlCategory `xml:"category,omitempty"`
}

type xmlCategory struct {
	Term string `xml:"term,attr"`
}

// WriteAtom writes f as an Atom 1.0 document (RFC 4287). Text is written
// as type="text", so nothing from a post can inject markup into readers.
// Every entry needs an ID; a feed without an author gets the title as
// author, because Atom requires one.
func WriteAtom(w io.Writer, f OutFeed) error {
	if f.ID == "" || f.Title == "" {
		return errors.New("rss: an Atom feed needs an ID and a title")
	}
	updated := f.Updated
	x := xmlFeed{ID: f.ID, Title: xmlText{"text", f.Title}}
	if f.Subtitle != "" {
		x.Subtitle = &xmlText{"text", f.Subtitle}
	}
	if f.Link != "" {
		x.Links = append(x.Links, atomLink{Href: f.Link, Rel: "alternate", Type: "text/html"})
	}
	if f.Self != "" {
		x.Links = append(x.Links, atomLink{Href: f.Self, Rel: "self", Type: "application/atom+xml"})
	}
	author := f.Author
	if author == "" {
		author = f.Title
	}
	x.Author = &atomPerson{Name: author}
	for i, e := range f.Entries {
		if e.ID == "" {
			return errors.New("rss: entry " + strconv.Itoa(i) + " has no ID")
		}
		up := e.Updated
		if up.IsZero() {
			up = e.Published
		}
		if up.After(updated) && f.Updated.IsZero() {
			updated = up
		}
		title := e.Title
		if title == "" {
			title = firstLine(e.Text, 80)
		}
		xe := xmlEntry{ID: e.ID, Title: xmlText{"text", title}, Updated: stamp(up), Content: xmlText{"text", e.Text}}
		if !e.Published.IsZero() {
			xe.Published = stamp(e.Published)
		}
		if e.Link != "" {
			xe.Links = []atomLink{{Href: e.Link, Rel: "alternate"}}
		}
		if e.Author != "" {
			xe.Author = &atomPerson{Name: e.Author}
		}
		for _, c := range e.Categories {
			xe.Categories = append(xe.Categories, xmlCategory{Term: c})
		}
		x.Entries = append(x.Entries, xe)
	}
	if updated.IsZero() {
		updated = time.Unix(0, 0)
	}
	x.Updated = stamp(updated)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(x); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// firstLine is a title for a post that has none: its first line, cut at a
// word boundary.
func firstLine(s string, max int) string {
	r := []rune(s)
	for i, c := range r {
		if c == '\n' {
			r = r[:i]
			break
		}
	}
	if len(r) <= max {
		return string(r)
	}
	cut := max
	for cut > max/2 && r[cut] != ' ' {
		cut--
	}
	return string(r[:cut]) + "…"
}
