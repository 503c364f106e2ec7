package web

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// The composer's variants: a platform's or one channel's own text and
// media. Each variant the writer adds is a fieldset in the form with
//
//	variant_keys        = "mastodon" | "42" (a channel id)
//	variant_text.KEY    = own text (empty: the post's)
//	variant_media.KEY   = media ids (none: the post's)
//
// Its rules are shown with it, and each live check (POST /posts/validate)
// updates its verdict in place (an htmx out-of-band swap) along with the
// per-platform previews.

// uiVariant is one variant's fieldset.
type uiVariant struct {
	Key      string // form key: platform or channel id
	Label    string
	Platform string
	Rules    string // the target's media rules in words
	Text     string
	Media    []uiMediaChoice
	// After a check: its problems, and whether any chosen channel uses
	// it.
	Checked  bool
	Applies  bool
	Problems []publish.Problem
}

// DOMKey is the key as an element id part.
func (v uiVariant) DOMKey() string { return strings.NewReplacer(":", "-", " ", "-").Replace(v.Key) }

// uiVariantTarget is an option of the "add a variant for" list.
type uiVariantTarget struct {
	Key, Label string
}

// routesUIVariants registers the fragment that adds a variant's fieldset.
func (s *Server) routesUIVariants() {
	s.uiPageRoute("GET /posts/variant", s.uiVariantFragment)
}

// uiVariantFragment renders an empty variant fieldset for target (a
// platform key or a channel id the caller may write for).
func (s *Server) uiVariantFragment(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	key := r.URL.Query().Get("target")
	lib, err := s.Publish.MediaLibrary(r.Context(), p, "", 200)
	if err != nil {
		return err
	}
	v, err := s.uiNewVariant(r, p, key, lib)
	if err != nil {
		return err
	}
	s.uiRenderBlock(w, r, http.StatusOK, "publish_compose", "variant", v)
	return nil
}

// uiNewVariant describes target's variant, with the library to pick from.
func (s *Server) uiNewVariant(r *http.Request, p *access.Principal, key string, lib []publish.Media) (uiVariant, error) {
	v := uiVariant{Key: key}
	if id, err := strconv.ParseInt(key, 10, 64); err == nil {
		c, err := s.Org.Channel(r.Context(), p, id)
		if err != nil {
			return v, &errs.Error{Code: errs.NotFound, Field: "target", Message: fmt.Sprintf("channel %d not found", id)}
		}
		if !p.Can(access.WritePosts, c.UnitPath) {
			return v, errs.E(errs.Forbidden, "you may not write posts for channel %d", id)
		}
		v.Platform, v.Label = c.Platform, c.Name+" ("+c.Unit+")"
	} else {
		pf, ok := org.PlatformByKey(key)
		if !ok {
			return v, errs.Field("target", "%q is neither a platform nor a channel id", key)
		}
		v.Platform, v.Label = key, "Every "+pf.Name+" channel"
	}
	conn, ok := s.Publish.Registry.Get(v.Platform)
	if !ok || !conn.Capabilities().Publish {
		return v, errs.Field("target", "%s can't be published to from the hub", uiPlatformName(v.Platform))
	}
	v.Rules = uiMediaRules(conn.Capabilities())
	for _, m := range lib {
		v.Media = append(v.Media, uiMediaChoice{Media: m})
	}
	return v, nil
}

// uiVariantTargets are the platforms of the channels the caller may write
// for, then those channels, for the "add a variant" list.
func uiVariantTargets(chs []uiTarget) []uiVariantTarget {
	seen := map[string]bool{}
	var platforms []string
	for _, c := range chs {
		if !seen[c.Platform] {
			seen[c.Platform] = true
			platforms = append(platforms, c.Platform)
		}
	}
	sort.Strings(platforms)
	var out []uiVariantTarget
	for _, pf := range platforms {
		out = append(out, uiVariantTarget{Key: pf, Label: "Every " + uiPlatformName(pf) + " channel"})
	}
	for _, c := range chs {
		out = append(out, uiVariantTarget{Key: strconv.FormatInt(c.ID, 10), Label: uiPlatformName(c.Platform) + ": " + c.Label})
	}
	return out
}

// uiVariantInput reads the variants of the composer's form into in, and
// returns them as the form had them (for showing the form again).
func uiVariantInput(r *http.Request, in *publish.PostInput) []uiVariant {
	var out []uiVariant
	seen := map[string]bool{}
	for _, key := range r.PostForm["variant_keys"] {
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		v := uiVariant{Key: key, Text: r.PostFormValue("variant_text." + key)}
		var vi publish.VariantInput
		if strings.TrimSpace(v.Text) != "" {
			t := v.Text
			vi.Text = &t
		}
		for _, s := range r.PostForm["variant_media."+key] {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				vi.Media = append(vi.Media, id)
			}
		}
		out = append(out, v)
		if vi.Text == nil && len(vi.Media) == 0 {
			continue // nothing of its own yet: the post's content
		}
		if in.Variants == nil {
			in.Variants = map[string]publish.VariantInput{}
		}
		in.Variants[key] = vi
	}
	return out
}

// uiFillVariants completes the form's variants for display: labels,
// rules, the library with their picks, and the last check's verdict.
func (s *Server) uiFillVariants(r *http.Request, p *access.Principal, vs []uiVariant, lib []publish.Media, checked bool,
	previews []publish.Preview, problems []publish.Problem) []uiVariant {
	var out []uiVariant
	for _, v := range vs {
		full, err := s.uiNewVariant(r, p, v.Key, lib)
		if err != nil {
			continue
		}
		full.Text, full.Checked = v.Text, checked
		picked := map[string]bool{}
		for _, id := range r.PostForm["variant_media."+v.Key] {
			picked[id] = true
		}
		for i := range full.Media {
			full.Media[i].Checked = picked[strconv.FormatInt(full.Media[i].ID, 10)]
		}
		prefix := "variants." + v.Key + "."
		for _, pr := range problems {
			if strings.HasPrefix(pr.Field, prefix) {
				full.Problems = append(full.Problems, pr)
			}
		}
		id, _ := strconv.ParseInt(v.Key, 10, 64)
		for _, pv := range previews {
			if (id == 0 && pv.Platform == v.Key) || (id != 0 && containsID(pv.ChannelIDs, id)) {
				full.Applies = true
			}
		}
		out = append(out, full)
	}
	return out
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// uiMediaRules says a platform's media rules in a line: "up to 4 images
// (JPEG, PNG; ≤ 16 MB) or 1 video (MP4, MOV; ≤ 99 MB)".
func uiMediaRules(c connector.Capabilities) string {
	r := c.Media
	var kinds []string
	if r.MaxImages > 0 {
		kinds = append(kinds, fmt.Sprintf("%s (%s)", countOf(r.MaxImages, "image"), ruleDetails(r.ImageTypes, r.MaxImageBytes, 0, 0)))
	}
	if r.MaxVideos > 0 {
		kinds = append(kinds, fmt.Sprintf("%s (%s)", countOf(r.MaxVideos, "video"), ruleDetails(r.VideoTypes, r.MaxVideoBytes, r.MinVideoDuration.Seconds(), r.MaxVideoDuration.Seconds())))
	}
	if len(kinds) == 0 {
		return "no media"
	}
	sep := " or "
	if r.MixKinds {
		sep = " and "
	}
	out := "up to " + strings.Join(kinds, sep)
	if c.RequiresMedia {
		out += "; media required"
	}
	if r.FetchesMedia {
		out += "; fetched by the platform from a public link"
	}
	return out
}

func countOf(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ruleDetails lists short type names, the size limit and the length.
func ruleDetails(types []string, maxBytes int64, minSec, maxSec float64) string {
	names := make([]string, 0, len(types))
	for _, t := range types {
		_, sub, _ := strings.Cut(t, "/")
		switch sub {
		case "quicktime":
			sub = "mov"
		case "x-msvideo":
			sub = "avi"
		case "3gpp":
			sub = "3gp"
		}
		names = append(names, strings.ToUpper(sub))
	}
	parts := []string{strings.Join(names, ", ")}
	if len(types) == 0 {
		parts[0] = "any type"
	}
	if maxBytes > 0 {
		parts = append(parts, "≤ "+bytesText(maxBytes))
	}
	switch {
	case minSec > 0 && maxSec > 0:
		parts = append(parts, fmt.Sprintf("%s–%s", secondsText(minSec), secondsText(maxSec)))
	case maxSec > 0:
		parts = append(parts, "≤ "+secondsText(maxSec))
	}
	return strings.Join(parts, "; ")
}

func secondsText(s float64) string {
	switch {
	case s >= 3600 && int(s)%3600 == 0:
		return fmt.Sprintf("%d h", int(s)/3600)
	case s >= 60 && int(s)%60 == 0:
		return fmt.Sprintf("%d min", int(s)/60)
	}
	return fmt.Sprintf("%g s", s)
}

func bytesText(b int64) string {
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%d GB", b>>30)
	case b >= 1<<20:
		return fmt.Sprintf("%d MB", (b+1<<19)>>20)
	}
	return fmt.Sprintf("%d KB", b>>10)
}
