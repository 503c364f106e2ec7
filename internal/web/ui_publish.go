package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// routesUIPublish registers the publishing pages (composer, calendar,
// campaigns).
func (s *Server) routesUIPublish() {
	if s.Publish == nil {
		return
	}
	s.uiPageRoute("GET /calendar", s.uiCalendar)
	s.uiPageRoute("GET /posts/new", s.uiCompose)
	s.uiPageRoute("POST /posts", s.uiCreatePost)
	s.uiPageRoute("POST /posts/validate", s.uiValidatePost)
	s.routesUIVariants()
	s.uiPageRoute("GET /posts/{id}", s.uiPost)
	s.uiPageRoute("POST /posts/{id}/retry", s.uiPostAction)
	s.uiPageRoute("POST /posts/{id}/approve", s.uiPostAction)
	s.uiPageRoute("POST /posts/{id}/reject", s.uiPostAction)
	s.uiPageRoute("POST /posts/{id}/offer", s.uiPostAction)
	s.uiPageRoute("POST /posts/{id}/cancel", s.uiPostAction)
	s.uiPageRoute("GET /campaigns", s.uiCampaigns)
	s.uiPageRoute("GET /campaigns/new", s.uiCampaignForm)
	s.uiPageRoute("POST /campaigns", s.uiSaveCampaign)
	s.uiPageRoute("GET /campaigns/{id}", s.uiCampaign)
	s.uiPageRoute("GET /campaigns/{id}/edit", s.uiCampaignForm)
	s.uiPageRoute("POST /campaigns/{id}", s.uiSaveCampaign)
	s.routesUIMedia()
	s.uiPageRoute("GET /offers", s.uiOffers)
}

// ---- campaigns and offers ----

type uiCampaignsData struct {
	uiPage
	Campaigns []publish.Campaign
	Campaign  publish.Campaign
	// Report is the campaign's reach and results (nil without analytics).
	Report *analytics.CampaignReport
}

func (s *Server) uiCampaigns(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	cs, err := s.Publish.Campaigns(r.Context(), p)
	if err != nil {
		return err
	}
	s.uiRender(w, r, http.StatusOK, "publish_campaigns", uiCampaignsData{uiPage: s.uiBase(r, "Campaigns", "publish"), Campaigns: cs})
	return nil
}

func (s *Server) uiCampaign(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Publish.Campaign(r.Context(), p, id)
	if err != nil {
		return err
	}
	d := uiCampaignsData{uiPage: s.uiBase(r, c.Name, "publish"), Campaign: c}
	if s.Analytics != nil {
		if rep, err := s.Analytics.Campaign(r.Context(), p, id); err == nil {
			d.Report = &rep
		}
	}
	s.uiRender(w, r, http.StatusOK, "publish_campaign", d)
	return nil
}

type uiOffersData struct {
	uiPage
	Offers []publish.Offer
}

func (s *Server) uiOffers(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	offers, err := s.Publish.Offers(r.Context(), p)
	if err != nil {
		return err
	}
	s.uiRender(w, r, http.StatusOK, "publish_offers", uiOffersData{uiPage: s.uiBase(r, "Offered content", "publish"), Offers: offers})
	return nil
}

// ---- calendar ----

// uiCalPost is a post as a calendar cell shows it.
type uiCalPost struct {
	ID      int64
	Time    string
	Text    string
	Status  publish.PostStatus
	Summary string
}

type uiCalDay struct {
	Date    time.Time
	Day     int
	InMonth bool
	Today   bool
	Posts   []uiCalPost
	More    int
}

type uiCalendarData struct {
	uiPage
	Units     []uiOption
	Unit      string
	View      string // month or week
	Zone      string
	Title     string
	Prev      string
	Next      string
	Weekdays  []string
	Weeks     [][]uiCalDay
	Total     int
	Pending   []publish.Post
	CanWrite  bool
	ICalPath  string
	DateParam string
}

// uiMaxPerDay bounds the posts a month cell lists; the week view lists
// more.
const (
	uiMaxPerDay     = 4
	uiMaxPerWeekDay = 40
)

// uiZone is the unit's time zone, or UTC.
func uiZone(u org.Unit) *time.Location {
	if u.TimeZone != "" {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

func (s *Server) uiCalendar(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	q := r.URL.Query()
	d := uiCalendarData{uiPage: s.uiBase(r, "Calendar", "publish"), View: q.Get("view"), Unit: q.Get("unit"),
		Weekdays: []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}, CanWrite: mayWritePosts(p)}
	s.uiTakeFlash(w, r, &d.uiPage)
	if d.View != "week" {
		d.View = "month"
	}
	units, err := s.Org.Tree(r.Context(), p)
	if err != nil {
		return err
	}
	d.Units = []uiOption{{Value: "", Label: "Everything I can see"}}
	loc := time.UTC
	for _, u := range units {
		d.Units = append(d.Units, uiOption{Value: u.Key, Label: strings.Repeat("· ", u.Depth) + u.Name, Selected: u.Key == d.Unit})
		if u.Key == d.Unit {
			loc = uiZone(u)
		}
	}
	d.Zone = loc.String()
	now := time.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if v := q.Get("date"); v != "" {
		t, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			return errs.Field("date", "%q is not a date (2026-05-01)", v)
		}
		day = t
	}
	var from, to, first time.Time // the grid's span, and the month's first day
	if d.View == "week" {
		from = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		to = from.AddDate(0, 0, 7)
		first = from
		_, wk := from.ISOWeek()
		d.Title = fmt.Sprintf("Week %d, %s", wk, from.Format("2 Jan 2006"))
		d.Prev, d.Next = from.AddDate(0, 0, -7).Format("2006-01-02"), to.Format("2006-01-02")
	} else {
		first = time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, loc)
		from = first.AddDate(0, 0, -((int(first.Weekday()) + 6) % 7))
		end := first.AddDate(0, 1, 0)
		to = end.AddDate(0, 0, (7-(int(end.Weekday())+6)%7)%7)
		d.Title = first.Format("January 2006")
		d.Prev, d.Next = first.AddDate(0, -1, 0).Format("2006-01-02"), end.Format("2006-01-02")
	}
	d.DateParam = day.Format("2006-01-02")
	refs, err := s.Publish.CalendarIndex(r.Context(), p, d.Unit, from, to)
	if err != nil {
		return err
	}
	d.Total = len(refs)
	limit := uiMaxPerDay
	if d.View == "week" {
		limit = uiMaxPerWeekDay
	}
	// Posts come oldest first: keep the first few of each day, count the
	// rest, and load only the shown ones.
	shown := map[string]int{}
	more := map[string]int{}
	var ids []int64
	for _, ref := range refs {
		k := ref.ScheduledAt.In(loc).Format("2006-01-02")
		if shown[k] >= limit {
			more[k]++
			continue
		}
		shown[k]++
		ids = append(ids, ref.ID)
	}
	posts, err := s.Publish.PostsByIDs(r.Context(), p, ids)
	if err != nil {
		return err
	}
	byDay := map[string][]publish.Post{}
	for _, post := range posts {
		k := post.ScheduledAt.In(loc).Format("2006-01-02")
		byDay[k] = append(byDay[k], post)
	}
	today := now.Format("2006-01-02")
	for c := from; c.Before(to); c = c.AddDate(0, 0, 7) {
		week := make([]uiCalDay, 7)
		for i := range week {
			dd := c.AddDate(0, 0, i)
			k := dd.Format("2006-01-02")
			cell := uiCalDay{Date: dd, Day: dd.Day(), InMonth: d.View == "week" || dd.Month() == first.Month(), Today: k == today, More: more[k]}
			for _, post := range byDay[k] {
				cell.Posts = append(cell.Posts, uiCalPost{ID: post.ID, Time: post.ScheduledAt.In(loc).Format("15:04"),
					Text: snippet(post.Text, 48), Status: post.Status, Summary: post.Summary})
			}
			week[i] = cell
		}
		d.Weeks = append(d.Weeks, week)
	}
	if p.CanAnywhere(access.ApprovePosts) {
		pending, err := s.Publish.Posts(r.Context(), p, d.Unit, publish.PostFilter{Status: publish.PostPending, Limit: 20})
		if err != nil {
			return err
		}
		for _, post := range pending {
			if p.Can(access.ApprovePosts, post.UnitPath) {
				d.Pending = append(d.Pending, post)
			}
		}
	}
	if d.Unit != "" {
		d.ICalPath = "/calendar/" + url.PathEscape(d.Unit) + ".ics"
	}
	s.uiRender(w, r, http.StatusOK, "publish_calendar", d)
	return nil
}

// ---- composer ----

type uiTarget struct {
	ID       int64
	Label    string
	Platform string
	Checked  bool
}

type uiComposeData struct {
	uiPage
	Form     *uiForm
	Channels []uiTarget
	Units    []uiTarget // ID unused; Label is the key
	Zones    []uiOption
	Media    []uiMediaChoice
	Problems []publish.Problem
	Previews []publish.Preview
	Checked  bool // a check ran
	Offer    *publish.Offer
	// Variants are the platforms' and channels' own text and media;
	// VariantTargets what a variant can be added for.
	Variants       []uiVariant
	VariantTargets []uiVariantTarget
}

// uiMediaChoice is a library file in the composer's picker.
type uiMediaChoice struct {
	publish.Media
	Checked bool
}

func (s *Server) uiComposeChoices(r *http.Request, p *access.Principal, d *uiComposeData) error {
	chs, _, err := s.Org.Channels(r.Context(), p, org.ChannelFilter{Status: org.StatusActive, Limit: 1000})
	if err != nil {
		return err
	}
	picked := map[string]bool{}
	for _, v := range r.Form["channels"] {
		picked[v] = true
	}
	for _, c := range chs {
		conn, ok := s.Publish.Registry.Get(c.Platform)
		if !ok || !conn.Capabilities().Publish || !p.Can(access.WritePosts, c.UnitPath) {
			continue
		}
		id := strconv.FormatInt(c.ID, 10)
		d.Channels = append(d.Channels, uiTarget{ID: c.ID, Label: c.Name + " (" + c.Unit + ")", Platform: c.Platform, Checked: picked[id]})
	}
	units, err := s.Org.Tree(r.Context(), p)
	if err != nil {
		return err
	}
	pickedU := map[string]bool{}
	for _, v := range r.Form["units"] {
		pickedU[v] = true
	}
	zones := map[string]bool{}
	zone := d.Form.Values["zone"]
	for _, u := range units {
		if p.Can(access.WritePosts, u.Path) {
			d.Units = append(d.Units, uiTarget{Label: u.Key, Platform: strings.Repeat("· ", u.Depth) + u.Name, Checked: pickedU[u.Key]})
			if zone == "" && u.TimeZone != "" {
				zone = u.TimeZone
			}
		}
		if u.TimeZone != "" && !zones[u.TimeZone] {
			zones[u.TimeZone] = true
			d.Zones = append(d.Zones, uiOption{Value: u.TimeZone, Label: u.TimeZone})
		}
	}
	d.Zones = append(d.Zones, uiOption{Value: "UTC", Label: "UTC"})
	if zone == "" {
		zone = "UTC"
	}
	d.Form.Values["zone"] = zone
	lib, err := s.Publish.MediaLibrary(r.Context(), p, "", 200)
	if err != nil {
		return err
	}
	pickedM := map[string]bool{}
	for _, v := range r.Form["media"] {
		pickedM[v] = true
	}
	for _, m := range lib {
		d.Media = append(d.Media, uiMediaChoice{Media: m, Checked: pickedM[strconv.FormatInt(m.ID, 10)]})
	}
	d.VariantTargets = uiVariantTargets(d.Channels)
	d.Variants = s.uiFillVariants(r, p, d.Variants, lib, d.Checked, d.Previews, d.Problems)
	return nil
}

func (s *Server) uiCompose(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	if !mayWritePosts(p) {
		return errs.E(errs.Forbidden, "you may not write posts")
	}
	d := uiComposeData{uiPage: s.uiBase(r, "New post", "publish"), Form: newUIForm("post")}
	r.Form = r.URL.Query()
	if v := r.Form.Get("offer"); v != "" {
		if err := s.uiComposeOffer(r, p, &d, v); err != nil {
			return err
		}
		d.Form.Values["text"] = d.Offer.Text
	}
	if err := s.uiComposeChoices(r, p, &d); err != nil {
		return err
	}
	s.uiRender(w, r, http.StatusOK, "publish_compose", d)
	return nil
}

// uiPostInput reads the composer's form; the schedule is a local time in
// the chosen zone.
func uiPostInput(r *http.Request, f *uiForm) (publish.PostInput, error) {
	in := publish.PostInput{Text: r.PostFormValue("text"), Units: r.PostForm["units"]}
	f.Values["text"] = in.Text
	uiVariantInput(r, &in)
	for _, v := range r.PostForm["channels"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return in, errs.Field("channels", "%q is not a channel id", v)
		}
		in.Channels = append(in.Channels, id)
	}
	for _, v := range r.PostForm["media"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return in, errs.Field("media", "%q is not a media id", v)
		}
		in.Media = append(in.Media, id)
	}
	local := strings.TrimSpace(r.PostFormValue("scheduled_local"))
	zone := r.PostFormValue("zone")
	f.Values["scheduled_local"], f.Values["zone"] = local, zone
	if local != "" {
		loc, err := time.LoadLocation(zone)
		if err != nil || zone == "" {
			return in, errs.Field("zone", "%q is not a time zone", zone)
		}
		t, err := time.ParseInLocation("2006-01-02T15:04", local, loc)
		if err != nil {
			return in, errs.Field("scheduled_local", "%q is not a date and time", local)
		}
		in.ScheduledAt = t.Format(time.RFC3339)
	}
	return in, nil
}

func (s *Server) uiValidatePost(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	d := uiComposeData{Form: newUIForm("post"), Checked: true}
	in, err := uiPostInput(r, d.Form)
	if err == nil && (len(in.Channels) > 0 || len(in.Units) > 0) {
		d.Previews, d.Problems, err = s.Publish.Preview(r.Context(), p, in)
	} else if err == nil {
		d.Checked = false
	}
	if err != nil {
		d.Form.fail(s, r, err)
	}
	// The variants' verdicts go out of band, into their fieldsets.
	lib, lerr := s.Publish.MediaLibrary(r.Context(), p, "", 200)
	if lerr != nil {
		return lerr
	}
	d.Variants = s.uiFillVariants(r, p, uiVariantInput(r, &publish.PostInput{}), lib, d.Checked, d.Previews, d.Problems)
	s.uiRenderBlock(w, r, http.StatusOK, "publish_compose", "validated", d)
	return nil
}

// uiComposeOffer finds the offer the composer takes up.
func (s *Server) uiComposeOffer(r *http.Request, p *access.Principal, d *uiComposeData, v string) error {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return errs.Field("offer", "%q is not an offer id", v)
	}
	offers, err := s.Publish.Offers(r.Context(), p)
	if err != nil {
		return err
	}
	for i := range offers {
		if offers[i].ID == id {
			d.Offer = &offers[i]
			d.Form.Values["offer"] = v
			return nil
		}
	}
	return errs.E(errs.NotFound, "offer %d not found", id)
}

func (s *Server) uiCreatePost(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	d := uiComposeData{uiPage: s.uiBase(r, "New post", "publish"), Form: newUIForm("post")}
	in, err := uiPostInput(r, d.Form)
	var post publish.Post
	if v := r.PostFormValue("offer"); err == nil && v != "" {
		if err = s.uiComposeOffer(r, p, &d, v); err == nil {
			post, err = s.Publish.TakeUp(r.Context(), p, d.Offer.ID, in)
		}
	} else if err == nil {
		post, err = s.Publish.CreatePost(r.Context(), p, in)
	}
	if err != nil {
		if errs.Is(err, errs.Internal) {
			return err
		}
		d.Variants = uiVariantInput(r, &publish.PostInput{})
		d.Form.fail(s, r, err, "text", "scheduled_local", "zone")
		if d.Form.General() == "" && d.Form.Errors["text"] == "" && d.Form.Errors["scheduled_local"] == "" && d.Form.Errors["zone"] == "" {
			d.Form.Errors[""] = s.publicError(r, err).Error()
		}
		if cerr := s.uiComposeChoices(r, p, &d); cerr != nil {
			return cerr
		}
		s.uiRender(w, r, statusOf(err), "publish_compose", d)
		return nil
	}
	msg := "Scheduled the post."
	if post.Status == publish.PostPending {
		msg = "The post awaits approval."
	}
	s.uiSetFlash(w, msg)
	http.Redirect(w, r, fmt.Sprintf("/posts/%d", post.ID), http.StatusSeeOther)
	return nil
}

// ---- post page ----

type uiPostData struct {
	uiPage
	Post       publish.Post
	When       string
	CanRetry   bool
	CanApprove bool
	CanOffer   bool
	CanCancel  bool
	Failed     int
	Media      []publish.Media
	// VariantMedia are the variants' own media, by variant key.
	VariantMedia []uiKeyedMedia
}

// uiKeyedMedia is a variant's media.
type uiKeyedMedia struct {
	Key   string
	Media []publish.Media
}

func (s *Server) uiPost(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	post, err := s.Publish.Post(r.Context(), p, id)
	if err != nil {
		return err
	}
	d := uiPostData{uiPage: s.uiBase(r, fmt.Sprintf("Post %d", id), "publish"), Post: post,
		CanRetry:   post.Counts[publish.DeliveryFailed] > 0 && p.Can(access.WritePosts, post.UnitPath),
		CanApprove: post.Stored == publish.PostPending && p.Can(access.ApprovePosts, post.UnitPath),
		CanOffer:   post.OriginID == nil && p.Can(access.WritePosts, post.UnitPath),
		CanCancel: post.Stored != publish.PostCancelled && post.Stored != publish.PostRejected &&
			post.Counts[publish.DeliveryHeld]+post.Counts[publish.DeliveryScheduled] > 0 && p.Can(access.WritePosts, post.UnitPath),
		Failed: post.Counts[publish.DeliveryFailed]}
	for _, id := range post.Media {
		if m, err := s.Publish.MediaByID(r.Context(), p, id); err == nil {
			d.Media = append(d.Media, m)
		}
	}
	keys := make([]string, 0, len(post.VariantMedia))
	for k := range post.VariantMedia {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		row := uiKeyedMedia{Key: k}
		for _, id := range post.VariantMedia[k] {
			if m, err := s.Publish.MediaByID(r.Context(), p, id); err == nil {
				row.Media = append(row.Media, m)
			}
		}
		d.VariantMedia = append(d.VariantMedia, row)
	}
	loc := time.UTC
	if post.TimeZone != "" {
		if l, err := time.LoadLocation(post.TimeZone); err == nil {
			loc = l
		}
	}
	d.When = post.ScheduledAt.In(loc).Format("Mon 2 Jan 2006, 15:04 MST")
	s.uiTakeFlash(w, r, &d.uiPage)
	s.uiRender(w, r, http.StatusOK, "publish_post", d)
	return nil
}

func (s *Server) uiPostAction(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	action := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	comment := strings.TrimSpace(r.PostFormValue("comment"))
	var msg string
	switch action {
	case "retry":
		_, err = s.Publish.Retry(r.Context(), p, id)
		msg = "Retrying the failed deliveries."
	case "approve":
		_, err = s.Publish.Approve(r.Context(), p, id, comment)
		msg = "Approved and scheduled."
	case "cancel":
		_, err = s.Publish.CancelPost(r.Context(), p, id, comment)
		msg = "Cancelled the deliveries not yet published."
	case "offer":
		units := strings.FieldsFunc(r.PostFormValue("units"), func(c rune) bool { return c == ',' || c == ' ' })
		_, err = s.Publish.OfferPost(r.Context(), p, id, publish.OfferInput{Units: units, Note: comment})
		msg = "Offered to " + strings.Join(units, ", ") + "."
	default:
		_, err = s.Publish.Reject(r.Context(), p, id, comment)
		msg = "Rejected."
	}
	if err != nil {
		if !uiFormFailure(err) && !(action == "offer" && errs.Is(err, errs.NotFound)) {
			return err
		}
		msg = s.publicError(r, err).Error()
	}
	s.uiSetFlash(w, msg)
	http.Redirect(w, r, fmt.Sprintf("/posts/%d", id), http.StatusSeeOther)
	return nil
}
