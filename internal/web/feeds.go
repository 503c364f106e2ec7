package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector/rss"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// feedEntries bounds a unit's Atom feed.
const feedEntries = 30

// serveUnitFeed answers /units/{key}/feed.atom: the unit's (and its
// subtree's) posts that are out in public, newest first, as Atom. It is
// public, like the posts themselves; only published deliveries' text and
// addresses appear, never drafts, notes or who wrote them.
func (s *Server) serveUnitFeed(w http.ResponseWriter, r *http.Request) {
	sys := access.SystemPrincipal()
	key := r.PathValue("key")
	u, err := s.Org.Unit(r.Context(), sys, key)
	if err != nil {
		http.Error(w, "no such unit", statusOf(err))
		return
	}
	now := time.Now()
	posts, err := s.Publish.Posts(r.Context(), sys, key, publish.PostFilter{To: now.Add(time.Second), Limit: 200})
	if err != nil {
		e := s.publicError(r, err)
		http.Error(w, e.Error(), statusOf(e))
		return
	}
	base := "http://" + r.Host
	if s.Connections != nil && s.Connections.PublicURL != "" {
		base = strings.TrimRight(s.Connections.PublicURL, "/")
	}
	feed := rss.OutFeed{ID: base + "/units/" + u.Key + "/feed.atom", Title: u.Name, Subtitle: "Posts of " + u.Name,
		Link: base + "/hub", Self: base + "/units/" + u.Key + "/feed.atom", Author: u.Name}
	for _, p := range posts {
		if len(feed.Entries) == feedEntries {
			break
		}
		full, err := s.Publish.Post(r.Context(), sys, p.ID)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				continue
			}
			e := s.publicError(r, err)
			http.Error(w, e.Error(), statusOf(e))
			return
		}
		var first *publish.Delivery
		for i, d := range full.Deliveries {
			if d.Status == publish.DeliveryPublished && d.PublishedAt != nil && (first == nil || d.PublishedAt.Before(*first.PublishedAt)) {
				first = &full.Deliveries[i]
			}
		}
		if first == nil {
			continue
		}
		feed.Entries = append(feed.Entries, rss.OutEntry{ID: feed.ID + "#post-" + strconv.FormatInt(full.ID, 10), Title: firstLine(full.Text),
			Link: first.URL, Published: *first.PublishedAt, Updated: *first.PublishedAt, Author: full.UnitName, Text: full.Text})
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if err := rss.WriteAtom(w, feed); err != nil {
		s.Log.Error("write feed", "unit", key, "err", err)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(line); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return line
}
