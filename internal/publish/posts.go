package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
)

// VariantInput is a variant's content: its own text, its own media, or
// both. What it leaves out comes from the post.
type VariantInput struct {
	// Text replaces the post's text for this target when present (even
	// empty); absent keeps the post's text.
	Text *string `json:"text,omitempty"`
	// Media replaces the post's media for this target when not empty.
	Media []int64 `json:"media,omitempty"`
}

// PostInput is a new post, or (in EditPost) the fields to change.
type PostInput struct {
	Text string `json:"text"`
	// Variants are keyed by platform ("mastodon") or channel id ("42").
	Variants map[string]VariantInput `json:"variants,omitempty"`
	Channels []int64                 `json:"channels,omitempty"`
	// Units selects every active channel that can publish text in each
	// unit's subtree.
	Units []string `json:"units,omitempty"`
	// ScheduledAt is RFC 3339; empty means now.
	ScheduledAt string `json:"scheduled_at,omitempty"`
	Campaign    *int64 `json:"campaign,omitempty"`
	// Media are ids from the media library, in order.
	Media []int64 `json:"media,omitempty"`
}

// target is one channel a post goes to, with its connector.
type target struct {
	ch   org.Channel
	conn connector.Connector
}

// Problem is one rule a target's variant breaks.
type Problem struct {
	Channel  int64  `json:"channel"`
	Name     string `json:"channel_name"`
	Platform string `json:"platform"`
	Field    string `json:"field"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

func newKey() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "vz-" + hex.EncodeToString(b)
}

// resolveTargets finds the channels a post goes to and checks the caller
// may write posts on each: unknown or unreadable channels are NotFound.
func (s *Service) resolveTargets(ctx context.Context, p *access.Principal, in PostInput) ([]target, error) {
	if len(in.Channels) == 0 && len(in.Units) == 0 {
		return nil, errs.Field("channels", "name at least one channel (channels) or unit (units)")
	}
	seen := map[int64]bool{}
	var chs []org.Channel
	for i, id := range in.Channels {
		c, err := s.Org.Channel(ctx, p, id)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, &errs.Error{Code: errs.NotFound, Field: fmt.Sprintf("channels[%d]", i), Message: fmt.Sprintf("channel %d not found", id)}
			}
			return nil, err
		}
		if !seen[c.ID] {
			seen[c.ID] = true
			chs = append(chs, c)
		}
	}
	for i, key := range in.Units {
		u, err := s.Org.Unit(ctx, p, key)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, &errs.Error{Code: errs.NotFound, Field: fmt.Sprintf("units[%d]", i), Message: fmt.Sprintf("unit %q not found", key)}
			}
			return nil, err
		}
		list, _, err := s.Org.Channels(ctx, p, org.ChannelFilter{Unit: u.Key, Status: org.StatusActive})
		if err != nil {
			return nil, err
		}
		n := 0
		for _, c := range list {
			conn, ok := s.Registry.Get(c.Platform)
			if !ok || !conn.Capabilities().Publish || conn.Capabilities().RequiresMedia || seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			chs = append(chs, c)
			n++
		}
		if n == 0 {
			return nil, errs.Field(fmt.Sprintf("units[%d]", i), "unit %q has no active channel that can publish text", key)
		}
	}
	out := make([]target, 0, len(chs))
	for i, c := range chs {
		field := fmt.Sprintf("channels[%d]", i)
		if !p.Can(access.WritePosts, c.UnitPath) {
			return nil, &errs.Error{Code: errs.Forbidden, Field: field, Message: fmt.Sprintf("you may not write posts for channel %d (%s)", c.ID, c.Unit)}
		}
		if c.Status != org.StatusActive {
			return nil, errs.Field(field, "channel %d (%s %s) is %s", c.ID, c.Platform, c.Handle, c.Status)
		}
		conn, ok := s.Registry.Get(c.Platform)
		if !ok || !conn.Capabilities().Publish {
			return nil, errs.Field(field, "channel %d: %s can't be published to from the hub", c.ID, uiName(c.Platform))
		}
		out = append(out, target{ch: c, conn: conn})
	}
	return out, nil
}

func uiName(platform string) string {
	if p, ok := org.PlatformByKey(platform); ok {
		return p.Name
	}
	return platform
}

// variantMap checks the variant keys and returns the stored maps: texts
// and media by target.
func variantMap(in map[string]VariantInput) (map[string]string, map[string][]int64, error) {
	out := map[string]string{}
	media := map[string][]int64{}
	for k, v := range in {
		key := k
		if id, err := strconv.ParseInt(k, 10, 64); err == nil && id > 0 {
			key = fmt.Sprintf("channel:%d", id)
		} else if !strings.HasPrefix(k, "channel:") {
			if _, ok := org.PlatformByKey(k); !ok {
				return nil, nil, errs.Field("variants."+k, "%q is neither a platform nor a channel id", k)
			}
		}
		if v.Text == nil && len(v.Media) == 0 {
			return nil, nil, errs.Field("variants."+k, "give the variant's text, its media, or both")
		}
		if v.Text != nil {
			out[key] = *v.Text
		}
		if len(v.Media) > 0 {
			media[key] = v.Media
		}
	}
	return out, media, nil
}

// postMedia loads every media id a post names, checking the caller may
// read each.
func (s *Service) postMedia(ctx context.Context, p *access.Principal, post *Post) (map[int64]Media, error) {
	out := map[int64]Media{}
	if post.OriginID != nil {
		// Taking up an offered post: its media are the caller's to use,
		// though they live in the origin's library.
		if origin, err := s.Store.PostByID(ctx, *post.OriginID); err == nil {
			ids := append([]int64{}, origin.Media...)
			for _, l := range origin.VariantMedia {
				ids = append(ids, l...)
			}
			for _, id := range ids {
				if m, err := s.Store.MediaByID(ctx, id); err == nil {
					m.fill()
					out[id] = m
				}
			}
		}
	}
	if err := s.loadMedia(ctx, p, "media", post.Media, out); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(post.VariantMedia))
	for k := range post.VariantMedia {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := s.loadMedia(ctx, p, "variants."+strings.TrimPrefix(k, "channel:")+".media", post.VariantMedia[k], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// variantFor is the content a target gets, as its connector sees it.
func (s *Service) variantFor(post *Post, ch int64, platform string, media map[int64]Media) connector.Variant {
	v := connector.Variant{Text: post.TextFor(ch, platform)}
	// Only a platform that downloads media itself gets public links: the
	// others receive the bytes, as they always did.
	conn, ok := s.Registry.Get(platform)
	link := ok && conn.Capabilities().Media.FetchesMedia
	for _, id := range post.MediaFor(ch, platform) {
		if m, ok := media[id]; ok {
			v.Media = append(v.Media, s.connectorMedia(m, link))
		}
	}
	return v
}

// check validates each target's variant (text and media) with its
// connector's rules and returns every problem found.
func (s *Service) check(post *Post, targets []target, media map[int64]Media) []Problem {
	var out []Problem
	for _, t := range targets {
		field, mfield := "text", "media"
		if _, ok := post.Variants[fmt.Sprintf("channel:%d", t.ch.ID)]; ok {
			field = fmt.Sprintf("variants.%d.text", t.ch.ID)
		} else if _, ok := post.Variants[t.ch.Platform]; ok {
			field = "variants." + t.ch.Platform + ".text"
		}
		if _, ok := post.VariantMedia[fmt.Sprintf("channel:%d", t.ch.ID)]; ok {
			mfield = fmt.Sprintf("variants.%d.media", t.ch.ID)
		} else if _, ok := post.VariantMedia[t.ch.Platform]; ok {
			mfield = "variants." + t.ch.Platform + ".media"
		}
		for _, pr := range t.conn.Validate(s.variantFor(post, t.ch.ID, t.ch.Platform, media)) {
			if pr.Code == connector.ProblemNoPublicURL {
				if why := s.publicURLProblem(); why != "" {
					pr.Message = uiName(t.ch.Platform) + ": " + why
				}
			}
			f := pr.Field
			switch {
			case pr.Field == "text":
				f = field
			case strings.HasPrefix(pr.Field, "media"):
				f = mfield + strings.TrimPrefix(pr.Field, "media")
			}
			out = append(out, Problem{Channel: t.ch.ID, Name: t.ch.Name, Platform: t.ch.Platform, Field: f, Code: pr.Code, Message: pr.Message})
		}
	}
	return out
}

func problemsError(ps []Problem) error {
	if len(ps) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(ps))
	for _, p := range ps {
		msgs = append(msgs, fmt.Sprintf("channel %d (%s %s): %s", p.Channel, uiName(p.Platform), p.Name, p.Message))
	}
	return errs.Field(ps[0].Field, "%s", strings.Join(msgs, "; "))
}

// Validate checks a would-be post without storing anything: the targets
// and every variant's problems (for the composer's live check).
func (s *Service) Validate(ctx context.Context, p *access.Principal, in PostInput) ([]Problem, error) {
	targets, err := s.resolveTargets(ctx, p, in)
	if err != nil {
		return nil, err
	}
	vm, vmedia, err := variantMap(in.Variants)
	if err != nil {
		return nil, err
	}
	post := &Post{Text: in.Text, Variants: vm, Media: in.Media, VariantMedia: vmedia}
	media, err := s.postMedia(ctx, p, post)
	if err != nil {
		return nil, err
	}
	return s.check(post, targets, media), nil
}

// parseSchedule reads an RFC 3339 time; empty means now. A time more than
// a minute in the past is refused.
func (s *Service) parseSchedule(v string) (time.Time, error) {
	now := s.Now()
	if strings.TrimSpace(v) == "" {
		return now, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errs.Field("scheduled_at", "%q is not an RFC 3339 time (2026-05-01T09:30:00+02:00)", v)
	}
	if t.Before(now.Add(-time.Minute)) {
		return time.Time{}, errs.Field("scheduled_at", "%s is in the past", v)
	}
	return t, nil
}

// postUnit is the lowest unit that holds every target.
func (s *Service) postUnit(ctx context.Context, targets []target) (org.Unit, error) {
	common := strings.Split(strings.Trim(targets[0].ch.UnitPath, "/"), "/")
	for _, t := range targets[1:] {
		segs := strings.Split(strings.Trim(t.ch.UnitPath, "/"), "/")
		n := 0
		for n < len(common) && n < len(segs) && common[n] == segs[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) == 0 {
		return s.Store.UnitByID(ctx, targets[0].ch.UnitID)
	}
	id, err := strconv.ParseInt(common[len(common)-1], 10, 64)
	if err != nil {
		return org.Unit{}, fmt.Errorf("publish: unit path %q: %w", targets[0].ch.UnitPath, err)
	}
	return s.Store.UnitByID(ctx, id)
}

// needsApproval: a unit on the way up from any target requires approval
// and the caller may not approve there itself.
func (s *Service) needsApproval(ctx context.Context, p *access.Principal, unitPath string, targets []target) (bool, error) {
	paths := []string{unitPath}
	for _, t := range targets {
		paths = append(paths, t.ch.UnitPath)
	}
	for _, path := range paths {
		if p.Can(access.ApprovePosts, path) {
			continue
		}
		req, err := s.Store.ApprovalRequired(ctx, path)
		if err != nil || req {
			return req, err
		}
	}
	return false, nil
}

func (s *Service) checkCampaign(ctx context.Context, p *access.Principal, id *int64) error {
	if id == nil {
		return nil
	}
	c, err := s.Store.CampaignByID(ctx, *id)
	if err != nil || !p.Can(access.ReadDirectory, c.UnitPath) {
		return &errs.Error{Code: errs.NotFound, Field: "campaign", Message: fmt.Sprintf("campaign %d not found", *id)}
	}
	return nil
}

// CreatePost validates the post for every target and, in one transaction,
// stores it, one delivery per channel and (unless it awaits approval) one
// job per delivery. Nothing is stored on any error.
func (s *Service) CreatePost(ctx context.Context, p *access.Principal, in PostInput) (Post, error) {
	return s.createPost(ctx, p, in, nil)
}

func (s *Service) createPost(ctx context.Context, p *access.Principal, in PostInput, origin *int64) (Post, error) {
	if !p.CanAnywhere(access.WritePosts) {
		return Post{}, errs.E(errs.Forbidden, "you may not write posts")
	}
	vm, vmedia, err := variantMap(in.Variants)
	if err != nil {
		return Post{}, err
	}
	if strings.TrimSpace(in.Text) == "" && len(vm) == 0 && len(in.Media) == 0 && len(vmedia) == 0 {
		return Post{}, errs.Field("text", "a post needs text or media")
	}
	at, err := s.parseSchedule(in.ScheduledAt)
	if err != nil {
		return Post{}, err
	}
	targets, err := s.resolveTargets(ctx, p, in)
	if err != nil {
		return Post{}, err
	}
	if err := s.checkCampaign(ctx, p, in.Campaign); err != nil {
		return Post{}, err
	}
	post := Post{Text: in.Text, Variants: vm, Media: in.Media, VariantMedia: vmedia, ScheduledAt: at, CampaignID: in.Campaign, OriginID: origin,
		AuthorID: p.User.ID, Author: p.User.Email}
	media, err := s.postMedia(ctx, p, &post)
	if err != nil {
		return Post{}, err
	}
	if err := problemsError(s.check(&post, targets, media)); err != nil {
		return Post{}, err
	}
	u, err := s.postUnit(ctx, targets)
	if err != nil {
		return Post{}, err
	}
	post.UnitID, post.Unit, post.UnitPath, post.TimeZone = u.ID, u.Key, u.Path, u.TimeZone
	need, err := s.needsApproval(ctx, p, u.Path, targets)
	if err != nil {
		return Post{}, err
	}
	post.Stored, post.Status = PostScheduled, PostScheduled
	dstatus := DeliveryScheduled
	if need {
		post.Stored, post.Status, dstatus = PostPending, PostPending, DeliveryHeld
	}
	ids := make([]int64, len(targets))
	keys := make([]string, len(targets))
	for i, t := range targets {
		ids[i], keys[i] = t.ch.ID, newKey()
	}
	err = s.InTx(ctx, func(tx Store) error {
		if err := tx.CreatePost(ctx, &post, ids, keys, dstatus); err != nil {
			return err
		}
		action := "scheduled"
		if need {
			action = "submitted"
		}
		if err := tx.AddApproval(ctx, Approval{PostID: post.ID, UserID: p.User.ID, Who: p.User.Email, Action: action}); err != nil {
			return err
		}
		if need {
			return nil
		}
		return s.enqueuePost(ctx, tx, post.ID, post.ScheduledAt, true)
	})
	if err != nil {
		return Post{}, err
	}
	return s.Post(ctx, p, post.ID)
}

// enqueuePost inserts the fan-out jobs for the post's scheduled
// deliveries.
func (s *Service) enqueuePost(ctx context.Context, tx Store, postID int64, at time.Time, unique bool) error {
	ds, err := tx.Deliveries(ctx, postID)
	if err != nil {
		return err
	}
	var ids []int64
	for _, d := range ds {
		if d.Status == DeliveryScheduled {
			ids = append(ids, d.ID)
		}
	}
	return s.enqueueFanout(ctx, tx, postID, ids, at, unique)
}

// Post returns one post the caller may read, with its deliveries and
// audit trail.
func (s *Service) Post(ctx context.Context, p *access.Principal, id int64) (Post, error) {
	post, err := s.Store.PostByID(ctx, id)
	if err != nil {
		return post, err
	}
	if !p.Can(access.ReadDirectory, post.UnitPath) {
		return Post{}, errs.E(errs.NotFound, "post %d not found", id)
	}
	if post.Deliveries, err = s.Store.Deliveries(ctx, id); err != nil {
		return post, err
	}
	if post.Approvals, err = s.Store.Approvals(ctx, id); err != nil {
		return post, err
	}
	if post.TakenUp, err = s.Store.TakeUps(ctx, id); err != nil {
		return post, err
	}
	post.Counts = map[DeliveryStatus]int{}
	for _, d := range post.Deliveries {
		post.Counts[d.Status]++
	}
	post.Finish()
	return post, nil
}

// Posts lists posts the caller may read. unit narrows to a subtree.
func (s *Service) Posts(ctx context.Context, p *access.Principal, unit string, f PostFilter) ([]Post, error) {
	if unit != "" {
		u, err := s.Org.Unit(ctx, p, unit)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, errs.Field("unit", "unit %q not found", unit)
			}
			return nil, err
		}
		f.UnitPath = u.Path
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	return s.Store.Posts(ctx, p.Scope(access.ReadDirectory), f)
}

// Calendar lists the posts of a unit's subtree scheduled in [from, to),
// oldest first, with their delivery counts.
func (s *Service) Calendar(ctx context.Context, p *access.Principal, unit string, from, to time.Time) ([]Post, error) {
	posts, err := s.CalendarLight(ctx, p, unit, from, to)
	if err != nil {
		return nil, err
	}
	return posts, s.FillCounts(ctx, posts)
}

// FillCounts adds the delivery counts, and the status they make, to
// posts listed without them.
func (s *Service) FillCounts(ctx context.Context, posts []Post) error {
	for start := 0; start < len(posts); start += 500 {
		chunk := posts[start:min(start+500, len(posts))]
		ids := make([]int64, len(chunk))
		for i, p := range chunk {
			ids[i] = p.ID
		}
		counts, err := s.Store.DeliveryCounts(ctx, ids)
		if err != nil {
			return err
		}
		for i := range chunk {
			chunk[i].Counts = counts[chunk[i].ID]
			chunk[i].Finish()
		}
	}
	return nil
}

// CalendarLight is Calendar without the delivery counts: the stored
// status only, for views that show few of the posts (FillCounts those).
func (s *Service) CalendarLight(ctx context.Context, p *access.Principal, unit string, from, to time.Time) ([]Post, error) {
	f, err := s.calendarFilter(ctx, p, unit, from, to)
	if err != nil {
		return nil, err
	}
	return s.Store.Posts(ctx, p.Scope(access.ReadDirectory), f)
}

// CalendarIndex lists the ids and times of the posts Calendar would
// list: a month of thousands of posts is bucketed by day from this, and
// only the posts shown are loaded (PostsByIDs).
func (s *Service) CalendarIndex(ctx context.Context, p *access.Principal, unit string, from, to time.Time) ([]PostRef, error) {
	f, err := s.calendarFilter(ctx, p, unit, from, to)
	if err != nil {
		return nil, err
	}
	return s.Store.PostTimes(ctx, p.Scope(access.ReadDirectory), f)
}

// PostsByIDs loads the listed posts the caller may read, with their
// delivery counts, oldest first.
func (s *Service) PostsByIDs(ctx context.Context, p *access.Principal, ids []int64) ([]Post, error) {
	posts, err := s.Store.PostsByIDs(ctx, p.Scope(access.ReadDirectory), ids)
	if err != nil {
		return nil, err
	}
	return posts, s.FillCounts(ctx, posts)
}

func (s *Service) calendarFilter(ctx context.Context, p *access.Principal, unit string, from, to time.Time) (PostFilter, error) {
	f := PostFilter{From: from, To: to, Limit: CalendarLimit, NoCounts: true}
	if !to.After(from) {
		return f, errs.Field("to", "to must be after from")
	}
	if to.Sub(from) > 400*24*time.Hour {
		return f, errs.Field("to", "the calendar spans at most 400 days")
	}
	if unit != "" {
		u, err := s.Org.Unit(ctx, p, unit)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return f, errs.Field("unit", "unit %q not found", unit)
			}
			return f, err
		}
		f.UnitPath = u.Path
	}
	return f, nil
}

// CalendarLimit bounds the posts one calendar view loads.
const CalendarLimit = 50000

// postFor loads a post the caller may read and checks perm on its unit.
func (s *Service) postFor(ctx context.Context, p *access.Principal, id int64, perm access.Permission, what string) (Post, error) {
	post, err := s.Post(ctx, p, id)
	if err != nil {
		return post, err
	}
	if !p.Can(perm, post.UnitPath) {
		return Post{}, errs.E(errs.Forbidden, "you may not %s post %d", what, id)
	}
	return post, nil
}

// Approve schedules a post that awaits approval.
func (s *Service) Approve(ctx context.Context, p *access.Principal, id int64, comment string) (Post, error) {
	post, err := s.postFor(ctx, p, id, access.ApprovePosts, "approve")
	if err != nil {
		return post, err
	}
	if post.Stored != PostPending {
		return Post{}, errs.E(errs.Conflict, "post %d is %s, not awaiting approval", id, post.Stored)
	}
	err = s.InTx(ctx, func(tx Store) error {
		post.Stored = PostScheduled
		if err := tx.UpdatePost(ctx, &post); err != nil {
			return err
		}
		if _, err := tx.SetDeliveryStatuses(ctx, id, []DeliveryStatus{DeliveryHeld}, DeliveryScheduled); err != nil {
			return err
		}
		if err := tx.AddApproval(ctx, Approval{PostID: id, UserID: p.User.ID, Who: p.User.Email, Action: "approved", Comment: comment}); err != nil {
			return err
		}
		return s.enqueuePost(ctx, tx, id, post.ScheduledAt, true)
	})
	if err != nil {
		return Post{}, err
	}
	return s.Post(ctx, p, id)
}

// Reject sends a post back to its author with a comment.
func (s *Service) Reject(ctx context.Context, p *access.Principal, id int64, comment string) (Post, error) {
	post, err := s.postFor(ctx, p, id, access.ApprovePosts, "reject")
	if err != nil {
		return post, err
	}
	if post.Stored != PostPending {
		return Post{}, errs.E(errs.Conflict, "post %d is %s, not awaiting approval", id, post.Stored)
	}
	if strings.TrimSpace(comment) == "" {
		return Post{}, errs.Field("comment", "say why the post is rejected")
	}
	err = s.InTx(ctx, func(tx Store) error {
		post.Stored = PostRejected
		if err := tx.UpdatePost(ctx, &post); err != nil {
			return err
		}
		return tx.AddApproval(ctx, Approval{PostID: id, UserID: p.User.ID, Who: p.User.Email, Action: "rejected", Comment: comment})
	})
	if err != nil {
		return Post{}, err
	}
	return s.Post(ctx, p, id)
}

// PostPatch changes a post that has not started publishing.
type PostPatch struct {
	Text        *string                 `json:"text,omitempty"`
	Variants    map[string]VariantInput `json:"variants,omitempty"`
	ScheduledAt *string                 `json:"scheduled_at,omitempty"`
	Campaign    *int64                  `json:"campaign,omitempty"`
	// Media replaces the post's media ids ([] removes them).
	Media *[]int64 `json:"media,omitempty"`
}

// EditPost changes a post before any delivery started. An edit by someone
// who may not approve sends an approved post back for approval.
func (s *Service) EditPost(ctx context.Context, p *access.Principal, id int64, in PostPatch) (Post, error) {
	post, err := s.postFor(ctx, p, id, access.WritePosts, "edit")
	if err != nil {
		return post, err
	}
	if post.Stored == PostCancelled || post.Counts[DeliveryCancelled] > 0 {
		return Post{}, errs.E(errs.Conflict, "post %d is cancelled", id)
	}
	for _, d := range post.Deliveries {
		if d.Status != DeliveryHeld && d.Status != DeliveryScheduled {
			return Post{}, errs.E(errs.Conflict, "post %d has started publishing; it can't be edited", id)
		}
	}
	if in.Text != nil {
		post.Text = *in.Text
	}
	if in.Variants != nil {
		if post.Variants, post.VariantMedia, err = variantMap(in.Variants); err != nil {
			return Post{}, err
		}
	}
	if in.Media != nil {
		post.Media = *in.Media
	}
	moved := false
	if in.ScheduledAt != nil {
		at, err := s.parseSchedule(*in.ScheduledAt)
		if err != nil {
			return Post{}, err
		}
		moved = !at.Equal(post.ScheduledAt)
		post.ScheduledAt = at
	}
	if in.Campaign != nil {
		if err := s.checkCampaign(ctx, p, in.Campaign); err != nil {
			return Post{}, err
		}
		post.CampaignID = in.Campaign
	}
	ids := make([]int64, len(post.Deliveries))
	for i, d := range post.Deliveries {
		ids[i] = d.ChannelID
	}
	targets, err := s.resolveTargets(ctx, p, PostInput{Channels: ids})
	if err != nil {
		return Post{}, err
	}
	media, err := s.postMedia(ctx, p, &post)
	if err != nil {
		return Post{}, err
	}
	if err := problemsError(s.check(&post, targets, media)); err != nil {
		return Post{}, err
	}
	need, err := s.needsApproval(ctx, p, post.UnitPath, targets)
	if err != nil {
		return Post{}, err
	}
	err = s.InTx(ctx, func(tx Store) error {
		action := "edited"
		if need {
			if post.Stored != PostPending {
				action = "edited; sent back for approval"
			}
			post.Stored = PostPending
			if _, err := tx.SetDeliveryStatuses(ctx, id, []DeliveryStatus{DeliveryScheduled}, DeliveryHeld); err != nil {
				return err
			}
		} else {
			post.Stored = PostScheduled
			if _, err := tx.SetDeliveryStatuses(ctx, id, []DeliveryStatus{DeliveryHeld}, DeliveryScheduled); err != nil {
				return err
			}
		}
		if err := tx.UpdatePost(ctx, &post); err != nil {
			return err
		}
		if err := tx.AddApproval(ctx, Approval{PostID: id, UserID: p.User.ID, Who: p.User.Email, Action: action}); err != nil {
			return err
		}
		if need {
			return nil
		}
		// A moved post gets new jobs; the old ones, should they fire
		// first, find the new time and wait for it.
		return s.enqueuePost(ctx, tx, id, post.ScheduledAt, !moved)
	})
	if err != nil {
		return Post{}, err
	}
	return s.Post(ctx, p, id)
}

// Retry schedules a post's failed deliveries again, now; the published
// ones stay as they are.
func (s *Service) Retry(ctx context.Context, p *access.Principal, id int64) (Post, error) {
	post, err := s.postFor(ctx, p, id, access.WritePosts, "retry")
	if err != nil {
		return post, err
	}
	if post.Counts[DeliveryFailed] == 0 {
		return Post{}, errs.E(errs.Conflict, "post %d has no failed deliveries", id)
	}
	err = s.InTx(ctx, func(tx Store) error {
		ids, err := tx.SetDeliveryStatuses(ctx, id, []DeliveryStatus{DeliveryFailed}, DeliveryScheduled)
		if err != nil {
			return err
		}
		for _, did := range ids {
			if err := s.enqueue(ctx, tx, did, s.Now(), true); err != nil {
				return err
			}
		}
		return tx.AddApproval(ctx, Approval{PostID: id, UserID: p.User.ID, Who: p.User.Email, Action: "retried",
			Comment: fmt.Sprintf("%d failed deliveries", len(ids))})
	})
	if err != nil {
		return Post{}, err
	}
	return s.Post(ctx, p, id)
}

// CancelPost cancels a post that has not been published everywhere: its
// deliveries not yet started (held or scheduled) become cancelled, and
// their jobs find them so and stop. Deliveries already publishing,
// published, failed or unknown keep their state.
func (s *Service) CancelPost(ctx context.Context, p *access.Principal, id int64, comment string) (Post, error) {
	post, err := s.postFor(ctx, p, id, access.WritePosts, "cancel")
	if err != nil {
		return post, err
	}
	switch post.Stored {
	case PostCancelled:
		return Post{}, errs.E(errs.Conflict, "post %d is cancelled already", id)
	case PostRejected:
		return Post{}, errs.E(errs.Conflict, "post %d was rejected; there is nothing to cancel", id)
	}
	if post.Counts[DeliveryHeld]+post.Counts[DeliveryScheduled] == 0 {
		return Post{}, errs.E(errs.Conflict, "post %d has no delivery left to cancel (%s)", id, post.Summary)
	}
	var n int
	err = s.InTx(ctx, func(tx Store) error {
		ids, err := tx.SetDeliveryStatuses(ctx, id, []DeliveryStatus{DeliveryHeld, DeliveryScheduled}, DeliveryCancelled)
		if err != nil {
			return err
		}
		n = len(ids)
		if len(ids) == len(post.Deliveries) {
			post.Stored = PostCancelled
			if err := tx.UpdatePost(ctx, &post); err != nil {
				return err
			}
		}
		c := fmt.Sprintf("%d deliveries cancelled", n)
		if comment != "" {
			c += ": " + comment
		}
		return tx.AddApproval(ctx, Approval{PostID: id, UserID: p.User.ID, Who: p.User.Email, Action: "cancelled", Comment: c})
	})
	if err != nil {
		return Post{}, err
	}
	return s.Post(ctx, p, id)
}

// SetApprovalPolicy says whether posts in a unit's subtree by roles below
// manager need approval.
func (s *Service) SetApprovalPolicy(ctx context.Context, p *access.Principal, unit string, required bool) error {
	u, err := s.Org.Unit(ctx, p, unit)
	if err != nil {
		return err
	}
	if !p.Can(access.ManageCampaigns, u.Path) {
		return errs.E(errs.Forbidden, "you may not set the approval policy of %q", unit)
	}
	return s.Store.SetApprovalPolicy(ctx, u.ID, required)
}

// ApprovalPolicy says whether posts in the unit need approval (by its own
// policy or an ancestor's).
func (s *Service) ApprovalPolicy(ctx context.Context, p *access.Principal, unit string) (bool, error) {
	u, err := s.Org.Unit(ctx, p, unit)
	if err != nil {
		return false, err
	}
	return s.Store.ApprovalRequired(ctx, u.Path)
}

// ---- campaigns ----

// CampaignInput is a new campaign, or the fields to change.
type CampaignInput struct {
	Unit     string   `json:"unit"`
	Name     string   `json:"name"`
	Topic    string   `json:"topic"`
	Goal     string   `json:"goal"`
	Tags     []string `json:"tags"`
	StartsAt string   `json:"starts_at"`
	EndsAt   string   `json:"ends_at"`
}

func optTime(field, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		if d, err2 := time.Parse("2006-01-02", v); err2 == nil {
			return &d, nil
		}
		return nil, errs.Field(field, "%q is not an RFC 3339 time or a date", v)
	}
	return &t, nil
}

func (s *Service) fillCampaign(c *Campaign, in CampaignInput) error {
	c.Name, c.Topic, c.Goal = strings.TrimSpace(in.Name), strings.TrimSpace(in.Topic), strings.TrimSpace(in.Goal)
	if c.Name == "" {
		return errs.Field("name", "a campaign needs a name")
	}
	c.Tags = []string{}
	for _, t := range in.Tags {
		if t = strings.TrimSpace(t); t != "" {
			if strings.Contains(t, ",") {
				return errs.Field("tags", "tag %q contains a comma", t)
			}
			c.Tags = append(c.Tags, t)
		}
	}
	sort.Strings(c.Tags)
	var err error
	if c.StartsAt, err = optTime("starts_at", in.StartsAt); err != nil {
		return err
	}
	if c.EndsAt, err = optTime("ends_at", in.EndsAt); err != nil {
		return err
	}
	if c.StartsAt != nil && c.EndsAt != nil && c.EndsAt.Before(*c.StartsAt) {
		return errs.Field("ends_at", "the campaign ends before it starts")
	}
	return nil
}

// CreateCampaign adds a campaign to a unit the caller manages.
func (s *Service) CreateCampaign(ctx context.Context, p *access.Principal, in CampaignInput) (Campaign, error) {
	if in.Unit == "" {
		return Campaign{}, errs.Field("unit", "a campaign needs a unit")
	}
	u, err := s.Org.Unit(ctx, p, in.Unit)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Campaign{}, &errs.Error{Code: errs.NotFound, Field: "unit", Message: fmt.Sprintf("unit %q not found", in.Unit)}
		}
		return Campaign{}, err
	}
	if !p.Can(access.ManageCampaigns, u.Path) {
		return Campaign{}, errs.E(errs.Forbidden, "you may not plan campaigns for %q", in.Unit)
	}
	c := Campaign{UnitID: u.ID, Unit: u.Key, UnitPath: u.Path}
	if err := s.fillCampaign(&c, in); err != nil {
		return Campaign{}, err
	}
	if err := s.Store.CreateCampaign(ctx, &c, p.User.ID); err != nil {
		return Campaign{}, err
	}
	return s.Campaign(ctx, p, c.ID)
}

// Campaign returns one campaign with its posts.
func (s *Service) Campaign(ctx context.Context, p *access.Principal, id int64) (Campaign, error) {
	c, err := s.Store.CampaignByID(ctx, id)
	if err != nil {
		return c, err
	}
	if !p.Can(access.ReadDirectory, c.UnitPath) {
		return Campaign{}, errs.E(errs.NotFound, "campaign %d not found", id)
	}
	c.Posts, err = s.Store.Posts(ctx, p.Scope(access.ReadDirectory), PostFilter{CampaignID: id, Limit: 1000})
	return c, err
}

// Campaigns lists the campaigns the caller may read.
func (s *Service) Campaigns(ctx context.Context, p *access.Principal) ([]Campaign, error) {
	return s.Store.Campaigns(ctx, p.Scope(access.ReadDirectory))
}

// UpdateCampaign replaces a campaign's fields (its unit stays).
func (s *Service) UpdateCampaign(ctx context.Context, p *access.Principal, id int64, in CampaignInput) (Campaign, error) {
	c, err := s.Campaign(ctx, p, id)
	if err != nil {
		return c, err
	}
	if !p.Can(access.ManageCampaigns, c.UnitPath) {
		return Campaign{}, errs.E(errs.Forbidden, "you may not change campaign %d", id)
	}
	if err := s.fillCampaign(&c, in); err != nil {
		return Campaign{}, err
	}
	if err := s.Store.UpdateCampaign(ctx, &c); err != nil {
		return Campaign{}, err
	}
	return s.Campaign(ctx, p, id)
}

// DeleteCampaign deletes a campaign; its posts stay, without it.
func (s *Service) DeleteCampaign(ctx context.Context, p *access.Principal, id int64) error {
	c, err := s.Campaign(ctx, p, id)
	if err != nil {
		return err
	}
	if !p.Can(access.ManageCampaigns, c.UnitPath) {
		return errs.E(errs.Forbidden, "you may not delete campaign %d", id)
	}
	return s.Store.DeleteCampaign(ctx, id)
}
