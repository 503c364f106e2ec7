package org

import (
	"net/url"
	"strings"

	"github.com/vernetzen/vernetzen/internal/errs"
)

// Platform is a social network or other place where channels live. The set
// is defined here, in code, because recognising a platform's URLs is code;
// the store keeps a copy of key, name and status so that an admin can pause
// a platform without a release.
type Platform struct {
	Key     string   `json:"key"`
	Name    string   `json:"name"`
	Status  string   `json:"status"` // "active" or "retired" (the platform itself is gone)
	Aliases []string `json:"-"`
	// hosts are the host names whose URLs belong to the platform, without "www.".
	hosts []string
	// handleOf extracts the account handle from a URL path on one of the
	// hosts ("" when the path names no account).
	handleOf func(u *url.URL) string
	// profileURL builds the canonical URL of a handle ("" when it can't).
	profileURL func(handle string) string
}

// Platforms is every platform vernetzen knows, in display order.
var Platforms = []*Platform{
	{Key: "facebook", Name: "Facebook", Status: "active", hosts: []string{"facebook.com", "m.facebook.com", "fb.com", "de-de.facebook.com"},
		handleOf: firstSegment("pages", "pg"), profileURL: prefixURL("https://www.facebook.com/")},
	{Key: "instagram", Name: "Instagram", Status: "active", hosts: []string{"instagram.com", "instagr.am"},
		handleOf: firstSegment(), profileURL: prefixURL("https://www.instagram.com/")},
	{Key: "x", Name: "X (Twitter)", Status: "active", Aliases: []string{"twitter"}, hosts: []string{"x.com", "twitter.com", "mobile.twitter.com"},
		handleOf: stripAt(firstSegment()), profileURL: prefixURL("https://x.com/")},
	{Key: "youtube", Name: "YouTube", Status: "active", hosts: []string{"youtube.com", "m.youtube.com"},
		handleOf: youtubeHandle, profileURL: youtubeURL},
	{Key: "linkedin", Name: "LinkedIn", Status: "active", hosts: []string{"linkedin.com"},
		handleOf: afterSegment("company", "showcase", "in", "school"), profileURL: prefixURL("https://www.linkedin.com/company/")},
	{Key: "tiktok", Name: "TikTok", Status: "active", hosts: []string{"tiktok.com"},
		handleOf: stripAt(firstSegment()), profileURL: prefixURL("https://www.tiktok.com/@")},
	{Key: "mastodon", Name: "Mastodon", Status: "active", handleOf: nil, profileURL: mastodonURL},
	{Key: "bluesky", Name: "Bluesky", Status: "active", hosts: []string{"bsky.app"},
		handleOf: afterSegment("profile"), profileURL: prefixURL("https://bsky.app/profile/")},
	{Key: "googleplus", Name: "Google+", Status: "retired", Aliases: []string{"google+", "google-plus"}, hosts: []string{"plus.google.com"},
		handleOf: googlePlusHandle},
	{Key: "foursquare", Name: "Foursquare", Status: "retired", hosts: []string{"foursquare.com", "swarmapp.com"},
		handleOf: afterSegment("v", "user")},
	{Key: "website", Name: "Website", Status: "active", Aliases: []string{"web", "video-portal"}},
	{Key: "community", Name: "Community", Status: "active"},
	{Key: "rss", Name: "RSS/Atom feed", Status: "active", Aliases: []string{"atom", "feed"}},
	{Key: "simulator", Name: "Simulator", Status: "active", Aliases: []string{"sim"}},
}

// PlatformByKey finds a platform by key or alias, case-insensitively.
func PlatformByKey(key string) (*Platform, bool) {
	key = strings.ToLower(strings.TrimSpace(key))
	for _, p := range Platforms {
		if p.Key == key {
			return p, true
		}
		for _, a := range p.Aliases {
			if a == key {
				return p, true
			}
		}
	}
	return nil, false
}

// PlatformKeys lists the known platform keys, for error messages.
func PlatformKeys() string {
	keys := make([]string, len(Platforms))
	for i, p := range Platforms {
		keys[i] = p.Key
	}
	return strings.Join(keys, ", ")
}

// Account is what Recognise makes of a channel's address.
type Account struct {
	Handle string // the account's handle on the platform, as written ("" if unknown)
	URL    string // canonical URL: https, lower-case host, no trailing slash
	Key    string // what makes the account unique on the platform (lower-case)
}

// Recognise normalises a channel's URL and handle for platform p. Either may
// be empty, not both. A URL on another platform's host, or a URL that is not
// a web address, is an error naming field "url".
func (p *Platform) Recognise(rawURL, handle string) (Account, error) {
	rawURL, handle = strings.TrimSpace(rawURL), strings.TrimSpace(handle)
	if rawURL == "" && handle == "" {
		return Account{}, errs.Field("url", "a channel needs a url or a handle")
	}
	var acct Account
	if rawURL != "" {
		u, err := normaliseURL(rawURL)
		if err != nil {
			return Account{}, err
		}
		host := strings.TrimPrefix(u.Host, "www.")
		if other := platformOfHost(host); other != nil && other != p {
			return Account{}, errs.Field("url", "%s is a %s address, not %s", rawURL, other.Name, p.Name)
		}
		if p.hosts != nil && !contains(p.hosts, host) {
			return Account{}, errs.Field("url", "%s is not a %s address (expected %s)", rawURL, p.Name, strings.Join(p.hosts, ", "))
		}
		if p.handleOf != nil {
			acct.Handle = p.handleOf(u)
		}
		if p.Key == "mastodon" {
			acct.Handle = mastodonHandle(u)
		}
		acct.URL = u.String()
		if acct.Handle != "" && p.profileURL != nil {
			acct.URL = p.profileURL(acct.Handle)
		}
	}
	if handle != "" {
		if p.Key != "youtube" {
			handle = strings.TrimPrefix(handle, "@")
		}
		if acct.Handle != "" && !strings.EqualFold(strings.TrimPrefix(handle, "@"), strings.TrimPrefix(acct.Handle, "@")) {
			return Account{}, errs.Field("handle", "handle %q does not match the url's account %q", handle, acct.Handle)
		}
		if acct.Handle == "" {
			acct.Handle = handle
		}
		if acct.URL == "" && p.profileURL != nil && !strings.ContainsAny(acct.Handle, " /?#") {
			acct.URL = p.profileURL(acct.Handle)
		}
	}
	switch {
	case acct.Handle != "":
		acct.Key = strings.ToLower(acct.Handle)
	default:
		acct.Key = strings.ToLower(acct.URL)
	}
	return acct, nil
}

// normaliseURL makes a web address canonical: https, lower-case host, no
// "www." removal (it is part of the address people know), no trailing
// slash, no fragment.
func normaliseURL(raw string) (*url.URL, error) {
	s := raw
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || strings.ContainsAny(u.Host, " _") || !strings.Contains(u.Host, ".") {
		return nil, errs.Field("url", "%q is not a web address", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errs.Field("url", "%q is not an http(s) address", raw)
	}
	u.Scheme = "https"
	u.Host = strings.ToLower(u.Host)
	u.User = nil
	u.Fragment = ""
	u.RawFragment = ""
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func platformOfHost(host string) *Platform {
	for _, p := range Platforms {
		if contains(p.hosts, host) {
			return p
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func segments(u *url.URL) []string {
	var out []string
	for _, s := range strings.Split(u.Path, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// firstSegment takes the first path segment as the handle, skipping the
// given prefixes ("facebook.com/pages/Name" names "Name").
func firstSegment(skip ...string) func(*url.URL) string {
	return func(u *url.URL) string {
		segs := segments(u)
		for len(segs) > 1 && contains(skip, strings.ToLower(segs[0])) {
			segs = segs[1:]
		}
		if len(segs) == 0 {
			return ""
		}
		if segs[0] == "profile.php" {
			return u.Query().Get("id")
		}
		return segs[0]
	}
}

// afterSegment takes the segment after one of the markers
// ("linkedin.com/company/bmw" names "bmw").
func afterSegment(markers ...string) func(*url.URL) string {
	return func(u *url.URL) string {
		segs := segments(u)
		if len(segs) >= 2 && contains(markers, strings.ToLower(segs[0])) {
			return segs[1]
		}
		return ""
	}
}

func stripAt(f func(*url.URL) string) func(*url.URL) string {
	return func(u *url.URL) string { return strings.TrimPrefix(f(u), "@") }
}

func prefixURL(prefix string) func(string) string {
	return func(handle string) string { return prefix + url.PathEscape(handle) }
}

// youtubeHandle recognises youtube.com/@name, /user/name, /c/name,
// /channel/UC… and the legacy youtube.com/name.
func youtubeHandle(u *url.URL) string {
	segs := segments(u)
	switch {
	case len(segs) == 0:
		return ""
	case strings.HasPrefix(segs[0], "@"):
		return segs[0]
	case len(segs) >= 2 && contains([]string{"user", "c", "channel"}, segs[0]):
		return segs[1]
	case contains([]string{"watch", "playlist", "results", "feed", "shorts"}, segs[0]):
		return ""
	default:
		return segs[0]
	}
}

func youtubeURL(handle string) string {
	if strings.HasPrefix(handle, "UC") && len(handle) == 24 {
		return "https://www.youtube.com/channel/" + handle
	}
	return "https://www.youtube.com/" + url.PathEscape(handle)
}

// googlePlusHandle recognises plus.google.com/<id>/posts, /+Name and /s/name.
func googlePlusHandle(u *url.URL) string {
	segs := segments(u)
	switch {
	case len(segs) >= 2 && segs[0] == "s":
		return segs[1]
	case len(segs) >= 1:
		return segs[0]
	}
	return ""
}

// mastodonHandle turns https://instance/@user into user@instance, the
// address Mastodon users know the account by.
func mastodonHandle(u *url.URL) string {
	segs := segments(u)
	if len(segs) >= 1 && strings.HasPrefix(segs[0], "@") && len(segs[0]) > 1 {
		return segs[0][1:] + "@" + u.Host
	}
	return ""
}

// mastodonURL builds https://instance/@user from user@instance.
func mastodonURL(handle string) string {
	h := strings.TrimPrefix(handle, "@")
	user, host, ok := strings.Cut(h, "@")
	if !ok || user == "" || host == "" {
		return ""
	}
	return "https://" + strings.ToLower(host) + "/@" + user
}
