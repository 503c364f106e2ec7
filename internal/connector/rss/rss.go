// Package rss reads RSS 2.0 and Atom feeds (blogs and news, for listening
// and blogger relations) and writes Atom feeds (the hub's published posts
// per unit).
//
// A feed is a channel whose Account.BaseURL is the feed URL. Reading is a
// conditional GET (If-None-Match / If-Modified-Since from the cursor), so
// an unchanged feed costs a 304; entries are deduplicated by GUID (or id,
// or link) against the entries seen last time, so an entry is returned
// once even though feeds repeat their recent entries on every fetch.
package rss

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// Platform is this connector's name.
const Platform = "rss"

// maxSeen bounds the remembered entry ids (more than any sane feed holds).
const maxSeen = 2000

// Connector reads feeds.
type Connector struct {
	client *connector.Client
}

// New returns a feed reader using the shared options.
func New(o connector.Options) *Connector {
	c := o.NewClient(Platform)
	return &Connector{client: c}
}

var _ interface {
	connector.Connector
	connector.InboundFetcher
} = (*Connector)(nil)

// Platform implements connector.Connector.
func (c *Connector) Platform() string { return Platform }

// Capabilities implements connector.Connector: feeds are read only.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{Inbound: []connector.InboundKind{connector.KindEntry}}
}

// Validate implements connector.Connector. Nothing can be published to
// someone else's feed; the hub publishes its own with WriteAtom.
func (c *Connector) Validate(v connector.Variant) []connector.Problem {
	return []connector.Problem{{Field: "channel", Code: "unsupported",
		Message: "RSS/Atom feeds are read only; the hub's own posts appear in its Atom feed"}}
}

// cursorState is the persisted cursor: the validators for a conditional
// GET and short hashes of the entry ids already returned.
type cursorState struct {
	ETag         string   `json:"etag,omitempty"`
	LastModified string   `json:"last_modified,omitempty"`
	Seen         []string `json:"seen,omitempty"`
}

const acceptFeeds = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"

// FetchInbound implements connector.InboundFetcher.
func (c *Connector) FetchInbound(ctx context.Context, acct *connector.Account, cursor string) (connector.Page, error) {
	if strings.TrimSpace(acct.BaseURL) == "" {
		return connector.Page{}, &connector.Error{Kind: connector.KindPermanent, Platform: Platform, Message: "the channel has no feed URL"}
	}
	var st cursorState
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &st); err != nil {
			return connector.Page{}, &connector.Error{Kind: connector.KindPermanent, Platform: Platform, Op: "fetch feed", Message: "invalid cursor"}
		}
	}
	h := http.Header{"Accept": {acceptFeeds}}
	if st.ETag != "" {
		h.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" {
		h.Set("If-Modified-Since", st.LastModified)
	}
	resp, err := c.client.Do(ctx, acct, &connector.Request{Op: "fetch feed", Method: http.MethodGet,
		URL: strings.TrimSpace(acct.BaseURL), Header: h, NoAuth: true, MaxBody: 16 << 20})
	var e *connector.Error
	if errors.As(err, &e) && e.Status == http.StatusNotModified {
		return connector.Page{Cursor: cursor}, nil
	}
	if err != nil {
		return connector.Page{}, err
	}
	feed, err := Parse(resp.Body)
	if err != nil {
		return connector.Page{}, &connector.Error{Kind: connector.KindPermanent, Platform: Platform, Op: "parse feed",
			Message: "not an RSS or Atom feed: " + err.Error()}
	}

	seen := map[string]bool{}
	for _, s := range st.Seen {
		seen[s] = true
	}
	next := cursorState{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	page := connector.Page{}
	for _, en := range feed.Entries {
		key := hashID(en.ID)
		if !slices.Contains(next.Seen, key) {
			next.Seen = append(next.Seen, key)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		text := en.Content
		if text == "" {
			text = en.Summary
		}
		page.Items = append(page.Items, connector.InboundItem{
			ExternalID: en.ID, Kind: connector.KindEntry, Title: connector.HTMLToText(en.Title), URL: en.Link,
			Text: connector.HTMLToText(text), CreatedAt: en.Published,
			Author: connector.Author{Name: en.Author, Handle: en.Author, URL: feed.Link},
		})
	}
	// Entries that left the feed may be forgotten, but keep recent ones a
	// little longer in case a feed reorders or briefly drops them.
	for _, s := range st.Seen {
		if len(next.Seen) >= maxSeen {
			break
		}
		if !slices.Contains(next.Seen, s) {
			next.Seen = append(next.Seen, s)
		}
	}
	// Oldest first; undated entries keep the feed's order (newest first
	// by convention, hence reversed).
	slices.Reverse(page.Items)
	slices.SortStableFunc(page.Items, func(a, b connector.InboundItem) int {
		if a.CreatedAt.IsZero() || b.CreatedAt.IsZero() {
			return 0
		}
		return a.CreatedAt.Compare(b.CreatedAt)
	})
	b, _ := json.Marshal(next)
	page.Cursor = string(b)
	return page, nil
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// Feed is a parsed feed, RSS or Atom alike.
type Feed struct {
	Title   string
	Link    string
	Entries []Entry
}

// Entry is one feed entry. ID is the GUID (RSS), id (Atom), or failing
// those the link, or a hash of title and date.
type Entry struct {
	ID        string
	Title     string
	Link      string
	Author    string
	Published time.Time
	Summary   string // HTML as given
	Content   string // HTML as given
}

type rssDoc struct {
	XMLName xml.Name `xml:"rss"`
	Channel struct {
		Title string    `xml:"title"`
		Link  string    `xml:"link"`
		Items []rssItem `xml:"item"`
	} `xml:"channel"`
}

type rssItem struct {
	Title       string `xml:"title"`
	Link        string `xml:"link"`
	GUID        string `xml:"guid"`
	PubDate     string `xml:"pubDate"`
	Description string `xml:"description"`
	Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
	Author      string `xml:"author"`
	Creator     string `xml:"http://purl.org/dc/elements/1.1/ creator"`
	DCDate      string `xml:"http://purl.org/dc/elements/1.1/ date"`
}

type atomDoc struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   atomText    `xml:"title"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",innerxml"`
}

// text returns an Atom text construct as HTML or plain text: xhtml
// content arrives as markup, text and html as (escaped) character data.
func (t atomText) text() string {
	if t.Type == "xhtml" {
		return strings.TrimSpace(t.Body)
	}
	var s string
	if err := xml.Unmarshal([]byte("<x>"+t.Body+"</x>"), &s); err != nil {
		return strings.TrimSpace(t.Body)
	}
	return strings.TrimSpace(s)
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomEntry struct {
	ID        string     `xml:"id"`
	Title     atomText   `xml:"title"`
	Links     []atomLink `xml:"link"`
	Published string     `xml:"published"`
	Updated   string     `xml:"updated"`
	Author    atomPerson `xml:"author"`
	Summary   atomText   `xml:"summary"`
	Content   atomText   `xml:"content"`
}

func alternate(links []atomLink) string {
	for _, l := range links {
		if l.Rel == "" || l.Rel == "alternate" {
			return l.Href
		}
	}
	if len(links) > 0 {
		return links[0].Href
	}
	return ""
}

// Parse reads an RSS 2.0 or Atom 1.0 document.
func Parse(b []byte) (Feed, error) {
	root, err := rootElement(b)
	if err != nil {
		return Feed{}, err
	}
	switch {
	case root.Local == "rss":
		var d rssDoc
		if err := decode(b, &d); err != nil {
			return Feed{}, err
		}
		f := Feed{Title: strings.TrimSpace(d.Channel.Title), Link: strings.TrimSpace(d.Channel.Link)}
		for _, it := range d.Channel.Items {
			e := Entry{ID: strings.TrimSpace(it.GUID), Title: strings.TrimSpace(it.Title), Link: strings.TrimSpace(it.Link),
				Summary: it.Description, Content: it.Content, Author: strings.TrimSpace(it.Creator)}
			if e.Author == "" {
				e.Author = strings.TrimSpace(it.Author)
			}
			e.Published = parseDate(it.PubDate)
			if e.Published.IsZero() {
				e.Published = parseDate(it.DCDate)
			}
			f.Entries = append(f.Entries, withID(e))
		}
		return f, nil
	case root.Local == "feed" && root.Space == "http://www.w3.org/2005/Atom":
		var d atomDoc
		if err := decode(b, &d); err != nil {
			return Feed{}, err
		}
		f := Feed{Title: d.Title.text(), Link: alternate(d.Links)}
		for _, en := range d.Entries {
			e := Entry{ID: strings.TrimSpace(en.ID), Title: en.Title.text(), Link: alternate(en.Links),
				Author: strings.TrimSpace(en.Author.Name), Summary: en.Summary.text(), Content: en.Content.text()}
			if e.Author == "" {
				e.Author = strings.TrimSpace(d.Author.Name)
			}
			e.Published = parseDate(en.Published)
			if e.Published.IsZero() {
				e.Published = parseDate(en.Updated)
			}
			f.Entries = append(f.Entries, withID(e))
		}
		return f, nil
	}
	return Feed{}, fmt.Errorf("unknown root element <%s>", root.Local)
}

func withID(e Entry) Entry {
	if e.ID == "" {
		e.ID = e.Link
	}
	if e.ID == "" {
		e.ID = "hash:" + hashID(e.Title+"\x00"+e.Published.String()+"\x00"+e.Summary)
	}
	return e
}

func newDecoder(b []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false // real feeds contain &nbsp; and other HTML entities
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charsetReader
	return d
}

func decode(b []byte, v any) error { return newDecoder(b).Decode(v) }

func rootElement(b []byte) (xml.Name, error) {
	d := newDecoder(b)
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.Name{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name, nil
		}
	}
}

// charsetReader accepts the single-byte encodings feeds still use;
// windows-1252 is read as Latin-1, which differs only in rarely used
// punctuation.
func charsetReader(charset string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso-8859-15", "latin1", "latin-1", "windows-1252", "cp1252":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return strings.NewReader(string(r)), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", charset)
}

var dateLayouts = []string{
	time.RFC1123Z, time.RFC1123, time.RFC3339Nano, time.RFC3339,
	"Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST", "2 Jan 2006 15:04:05 -0700",
	"Mon, 02 Jan 2006 15:04 -0700", "Mon, 2 Jan 2006 15:04:05 Z", "2006-01-02T15:04:05", "2006-01-02",
}

func parseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
