package publish

import (
	"context"
	"fmt"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// OfferInput offers a post to descendant units.
type OfferInput struct {
	Units []string `json:"units"`
	Note  string   `json:"note,omitempty"`
}

// OfferPost offers a post of a group or brand unit to units below it:
// their markets and dealers may take it up, localised, on their own
// channels.
func (s *Service) OfferPost(ctx context.Context, p *access.Principal, postID int64, in OfferInput) ([]Offer, error) {
	post, err := s.postFor(ctx, p, postID, access.WritePosts, "offer")
	if err != nil {
		return nil, err
	}
	if post.OriginID != nil {
		return nil, errs.E(errs.Conflict, "post %d takes up another post; offer the original", postID)
	}
	if len(in.Units) == 0 {
		return nil, errs.Field("units", "name the units to offer the post to")
	}
	ids := make([]int64, 0, len(in.Units))
	for i, key := range in.Units {
		field := fmt.Sprintf("units[%d]", i)
		u, err := s.Org.Unit(ctx, p, key)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, &errs.Error{Code: errs.NotFound, Field: field, Message: fmt.Sprintf("unit %q not found", key)}
			}
			return nil, err
		}
		if u.Path == post.UnitPath || !strings.HasPrefix(u.Path, post.UnitPath) {
			return nil, errs.Field(field, "unit %q is not below %q, where the post belongs", key, post.Unit)
		}
		ids = append(ids, u.ID)
	}
	if err := s.Store.CreateOffers(ctx, postID, ids, p.User.Email, strings.TrimSpace(in.Note)); err != nil {
		return nil, err
	}
	return s.offersOf(ctx, postID)
}

func (s *Service) offersOf(ctx context.Context, postID int64) ([]Offer, error) {
	offers, err := s.Store.Offers(ctx, postID, 1000)
	if err != nil {
		return nil, err
	}
	takeups, err := s.Store.TakeUps(ctx, postID)
	if err != nil {
		return nil, err
	}
	for i := range offers {
		offers[i].TakenUp = takenUpIn(offers[i], takeups)
	}
	return offers, nil
}

// takenUpIn picks the take-ups within an offer's unit subtree.
func takenUpIn(o Offer, all []TakeUp) []TakeUp {
	out := []TakeUp{}
	for _, t := range all {
		if strings.HasPrefix(t.UnitPath, o.UnitPath) {
			out = append(out, t)
		}
	}
	return out
}

// mayTakeUp says whether the caller may write posts in some part of the
// offered unit's subtree.
func mayTakeUp(p *access.Principal, o Offer) bool {
	if p.Can(access.WritePosts, o.UnitPath) {
		return true
	}
	for _, g := range p.Grants {
		if strings.HasPrefix(g.UnitPath, o.UnitPath) && g.Role.Has(access.WritePosts) {
			return true
		}
	}
	return false
}

// Offers lists the content offered to units where the caller may write
// posts (an offer to a market reaches its dealers), newest first.
func (s *Service) Offers(ctx context.Context, p *access.Principal) ([]Offer, error) {
	all, err := s.Store.Offers(ctx, 0, 500)
	if err != nil {
		return nil, err
	}
	out := []Offer{}
	for _, o := range all {
		if !mayTakeUp(p, o) {
			continue
		}
		all, err := s.Store.TakeUps(ctx, o.PostID)
		if err != nil {
			return nil, err
		}
		o.TakenUp = []TakeUp{}
		for _, t := range takenUpIn(o, all) {
			if p.Can(access.ReadDirectory, t.UnitPath) {
				o.TakenUp = append(o.TakenUp, t)
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// TakeUp makes the offered post a post of the caller's own: the given
// text and variants (the original's when none), channels within the
// offered unit's subtree, and its own time. Approval applies as to any
// post.
func (s *Service) TakeUp(ctx context.Context, p *access.Principal, offerID int64, in PostInput) (Post, error) {
	o, err := s.Store.OfferByID(ctx, offerID)
	if err != nil {
		return Post{}, err
	}
	if !mayTakeUp(p, o) {
		return Post{}, errs.E(errs.NotFound, "offer %d not found", offerID)
	}
	origin, err := s.Store.PostByID(ctx, o.PostID)
	if err != nil {
		return Post{}, err
	}
	if strings.TrimSpace(in.Text) == "" && len(in.Variants) == 0 {
		in.Text = origin.Text
		in.Variants = map[string]VariantInput{}
		for k, v := range origin.Variants {
			in.Variants[strings.TrimPrefix(k, "channel:")] = VariantInput{Text: &v, Media: origin.VariantMedia[k]}
		}
		for k, ids := range origin.VariantMedia {
			if _, ok := origin.Variants[k]; !ok { // a variant with media only
				in.Variants[strings.TrimPrefix(k, "channel:")] = VariantInput{Media: ids}
			}
		}
		if len(in.Media) == 0 {
			in.Media = origin.Media
		}
	}
	if len(in.Channels) == 0 && len(in.Units) == 0 {
		return Post{}, errs.Field("channels", "choose the channels (or units) to publish the offered post on")
	}
	targets, err := s.resolveTargets(ctx, p, in)
	if err != nil {
		return Post{}, err
	}
	for i, t := range targets {
		if !strings.HasPrefix(t.ch.UnitPath, o.UnitPath) {
			return Post{}, errs.Field(fmt.Sprintf("channels[%d]", i), "channel %d (%s) is outside %q, the unit the post was offered to", t.ch.ID, t.ch.Unit, o.Unit)
		}
	}
	origID := origin.ID
	return s.createPost(ctx, p, in, &origID)
}
