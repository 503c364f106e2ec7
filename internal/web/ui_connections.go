package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connection"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// routesUIConnections registers the pages that connect channels to their
// platforms (connection panel actions, OAuth callback, platform apps).
func (s *Server) routesUIConnections() {
	if s.Connections == nil {
		return
	}
	s.uiPageRoute("POST /channels/{id}/connect", s.uiConnect)
	s.uiPageRoute("POST /channels/{id}/oauth", s.uiOAuthBegin)
	s.uiPageRoute("POST /channels/{id}/disconnect", s.uiDisconnect)
	s.uiPageRoute("GET /oauth/callback", s.uiOAuthCallback)
	s.uiPageRoute("POST /notices/read", s.uiNoticesRead)
	s.uiPageRoute("GET /admin/platforms", s.uiPlatforms)
	s.uiPageRoute("POST /admin/platforms/{key}", s.uiPlatformSet)
}

// The connect form's fields. Secrets (access_token, refresh_token,
// app_password) are read from the request but never put into a form's
// values: a page never shows them, not even after a failed submit.
var (
	uiConnectFields = []string{"instance_url", "service_url", "identifier", "feed_url", "external_id",
		"access_token", "refresh_token", "app_password"}
	uiConnectPlain = []string{"instance_url", "service_url", "identifier", "feed_url", "external_id"}
)

// uiMaxNotices bounds the notices the banner lists.
const uiMaxNotices = 5

// uiNotices returns the caller's unread notices for the layout's banner:
// one indexed query, nothing for anonymous callers. A failure only
// hides the banner.
func (s *Server) uiNotices(r *http.Request, p *access.Principal) []connection.Notice {
	if s.Connections == nil || p == nil || p.User.ID == 0 {
		return nil
	}
	ns, err := s.Connections.Notices(r.Context(), p)
	if err != nil {
		s.Log.Error("notices for the banner", "user", p.User.ID, "err", err)
		return nil
	}
	if len(ns) > uiMaxNotices {
		ns = ns[:uiMaxNotices]
	}
	return ns
}

// ---- the channel page's connection panel ----

// uiConnPanel is the channel page's "Connection" panel.
type uiConnPanel struct {
	Platform   string
	State      string // "connected", "reconnect_needed", "error" or "none"
	Handle     string // as shown: "@bmw_de"
	BaseURL    string
	LastError  string
	LastPolled string
	Connected  string // when it was connected
	Messages   int
	// How the channel can be connected (from Status.Methods).
	Token, OAuth, Feed bool
	CanManage          bool
	Form               *uiForm // connect with a token, password, identifier or feed
	OAuthForm          *uiForm // sign in at the platform
	Disconnect         *uiForm
	Open               bool // show the connect forms unfolded
}

// NoConnector says the platform can't be connected at all.
func (c *uiConnPanel) NoConnector() bool { return !c.Token && !c.OAuth && !c.Feed }

// uiConnectionPanel builds the panel for a channel the caller may read.
func (s *Server) uiConnectionPanel(w http.ResponseWriter, r *http.Request, p *access.Principal, c org.Channel, canManage bool) (*uiConnPanel, error) {
	if s.Connections == nil {
		return nil, nil
	}
	ctx := r.Context()
	st, err := s.Connections.Status(ctx, p, c.ID)
	if err != nil {
		return nil, err
	}
	n, err := s.Connections.MessageCount(ctx, p, c.ID)
	if err != nil {
		return nil, err
	}
	d := &uiConnPanel{Platform: c.Platform, State: "none", Messages: n, CanManage: canManage,
		Token: slices.Contains(st.Methods, "token"), OAuth: slices.Contains(st.Methods, "oauth"), Feed: slices.Contains(st.Methods, "feed"),
		Form: newUIForm("connect"), OAuthForm: newUIForm("oauth"), Disconnect: newUIForm("disconnect")}
	if conn := st.Connection; conn != nil {
		d.State = string(conn.State)
		d.Handle = uiAccountHandle(conn.Handle)
		d.BaseURL = conn.BaseURL
		d.LastError = conn.LastError
		if conn.LastPolledAt != nil {
			d.LastPolled = uiTime(*conn.LastPolledAt)
		}
		if !conn.ConnectedAt.IsZero() {
			d.Connected = uiTime(conn.ConnectedAt)
		}
	}
	d.Open = d.State != string(connection.StateConnected)
	// Start the forms with what the channel already says.
	switch c.Platform {
	case "mastodon":
		inst := d.BaseURL
		if inst == "" {
			if _, host, ok := strings.Cut(strings.TrimPrefix(c.Handle, "@"), "@"); ok && host != "" {
				inst = "https://" + host
			}
		}
		d.Form.Values["instance_url"], d.OAuthForm.Values["instance_url"] = inst, inst
	case "bluesky", "simulator":
		d.Form.Values["identifier"] = strings.TrimPrefix(c.Handle, "@")
	case "rss":
		d.Form.Values["feed_url"] = c.URL
		if d.BaseURL != "" {
			d.Form.Values["feed_url"] = d.BaseURL
		}
	}
	if canManage && d.OAuth {
		uiAllowSignInRedirect(w)
	}
	return d, nil
}

// uiAllowSignInRedirect lets the channel page's sign-in form end at the
// platform: Chromium checks CSP form-action against every redirect that
// follows a form submission, so form-action 'self' alone would block the
// 303 to the platform's (or a Mastodon instance's) https:// sign-in page.
// Only the channel page of a manager, and only form-action, is widened.
func uiAllowSignInRedirect(w http.ResponseWriter) {
	h := w.Header()
	if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "form-action 'self'") && !strings.Contains(csp, "form-action 'self' https:") {
		h.Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' https:", 1))
	}
}

// uiAccountHandle writes an account's handle the way people read it.
func uiAccountHandle(h string) string {
	if h == "" || strings.HasPrefix(h, "@") || strings.ContainsAny(h, " /") {
		return h
	}
	return "@" + h
}

func uiTime(t time.Time) string {
	return t.UTC().Format("2 Jan 2006, 15:04 MST")
}

// uiConnFailure reports errors a connect form shows beside its fields:
// bad input, and a platform that could not be reached (503, try again).
func uiConnFailure(err error) bool {
	return uiFormFailure(err) || errs.Is(err, errs.Unavailable)
}

// uiConnAgain shows the channel page again with its connection panel
// changed by apply (a failed form), answering status.
func (s *Server) uiConnAgain(w http.ResponseWriter, r *http.Request, p *access.Principal, id int64, status int, apply func(d *uiChannelData)) error {
	d, err := s.uiLoadChannel(w, r, p, id)
	if err != nil {
		return err
	}
	if d.Conn == nil {
		return errs.E(errs.NotFound, "channel %d not found", id)
	}
	apply(d)
	s.uiRender(w, r, status, "channel", d)
	return nil
}

func uiChannelPath(id int64) string { return "/channels/" + strconv.FormatInt(id, 10) }

func (s *Server) uiConnect(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiChannelID(r)
	if err != nil {
		return err
	}
	f := newUIForm("connect").fill(r, uiConnectPlain...)
	in := connection.TokenInput{InstanceURL: f.Values["instance_url"], ServiceURL: f.Values["service_url"],
		FeedURL: f.Values["feed_url"], Identifier: f.Values["identifier"], ExternalID: f.Values["external_id"],
		AccessToken:  secret.Secret(strings.TrimSpace(r.PostFormValue("access_token"))),
		RefreshToken: secret.Secret(strings.TrimSpace(r.PostFormValue("refresh_token"))),
		AppPassword:  secret.Secret(strings.TrimSpace(r.PostFormValue("app_password")))}
	st, err := s.Connections.ConnectWithToken(r.Context(), p, id, in)
	if err != nil {
		if !uiConnFailure(err) {
			return err
		}
		f.fail(s, r, err, uiConnectFields...)
		return s.uiConnAgain(w, r, p, id, statusOf(err), func(d *uiChannelData) {
			d.Conn.Form, d.Conn.Open = f, true
		})
	}
	msg := "Connected."
	if st.Connection != nil && st.Connection.Handle != "" {
		msg = "Connected as " + uiAccountHandle(st.Connection.Handle) + "."
	}
	s.uiSetFlash(w, msg)
	http.Redirect(w, r, uiChannelPath(id)+"#connection", http.StatusSeeOther)
	return nil
}

func (s *Server) uiOAuthBegin(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiChannelID(r)
	if err != nil {
		return err
	}
	f := newUIForm("oauth").fill(r, "instance_url")
	to, err := s.Connections.BeginOAuth(r.Context(), p, id, f.Values["instance_url"])
	if err != nil {
		if !uiConnFailure(err) {
			return err
		}
		f.fail(s, r, err, "instance_url")
		return s.uiConnAgain(w, r, p, id, statusOf(err), func(d *uiChannelData) {
			d.Conn.OAuthForm, d.Conn.Open = f, true
		})
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (s *Server) uiDisconnect(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	id, err := uiChannelID(r)
	if err != nil {
		return err
	}
	c, err := s.Org.Channel(r.Context(), p, id)
	if err != nil {
		return err
	}
	if !p.Can(access.ManageDirectory, c.UnitPath) {
		return errs.E(errs.Forbidden, "you may not disconnect this channel: that needs the manager or admin role on its unit")
	}
	if r.PostFormValue("confirm") != "yes" {
		return s.uiConnAgain(w, r, p, id, http.StatusBadRequest, func(d *uiChannelData) {
			d.Conn.Disconnect.Errors["confirm"] = "tick the box to confirm"
		})
	}
	if err := s.Connections.Disconnect(r.Context(), p, id); err != nil {
		return err
	}
	s.uiSetFlash(w, "Disconnected "+c.Name+" from "+uiPlatformName(c.Platform)+": its credentials are forgotten and polling stops.")
	http.Redirect(w, r, uiChannelPath(id)+"#connection", http.StatusSeeOther)
	return nil
}

// uiOAuthCallback is where a platform sends the browser back after its
// sign-in. A state that is unknown, used or someone else's shows the
// error page; a refusal by the platform shows the channel's page with
// the platform's message.
func (s *Server) uiOAuthCallback(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	q := r.URL.Query()
	platformErr := q.Get("error")
	if desc := q.Get("error_description"); platformErr != "" && desc != "" {
		platformErr += " (" + desc + ")"
	}
	if len(platformErr) > 300 {
		platformErr = platformErr[:300] + "…"
	}
	id, err := s.Connections.FinishOAuth(r.Context(), p, q.Get("state"), q.Get("code"), platformErr)
	if err != nil {
		if id == 0 || !uiConnFailure(err) {
			return err
		}
		msg := s.publicError(r, err).Message
		return s.uiConnAgain(w, r, p, id, statusOf(err), func(d *uiChannelData) {
			d.Flash, d.FlashKind = "Not connected: "+msg, "error"
			d.Conn.Open = true
		})
	}
	msg := "Connected."
	if st, err := s.Connections.Status(r.Context(), p, id); err == nil && st.Connection != nil && st.Connection.Handle != "" {
		msg = "Connected as " + uiAccountHandle(st.Connection.Handle) + "."
	}
	s.uiSetFlash(w, msg)
	http.Redirect(w, r, uiChannelPath(id)+"#connection", http.StatusSeeOther)
	return nil
}

func (s *Server) uiNoticesRead(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	if err := s.Connections.MarkNoticesRead(r.Context(), p); err != nil {
		return err
	}
	// Back to the page the banner was on.
	back := "/directory"
	if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host {
		back = uiLocalPath(u.RequestURI(), back)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// ---- platform apps ----

var uiAppFields = []string{"client_id", "client_secret", "webhook_secret", "verify_token"}

// uiPlatformApp is one platform on the platforms page.
type uiPlatformApp struct {
	connection.AppStatus
	Name     string
	OAuth    bool // connected through a sign-in: needs a client id and secret
	Webhooks bool // pushes webhooks: needs a webhook secret and verify token
	Note     string
	Form     *uiForm
}

type uiPlatformsData struct {
	uiPage
	Apps []*uiPlatformApp
}

func (s *Server) uiLoadPlatforms(w http.ResponseWriter, r *http.Request, p *access.Principal) (*uiPlatformsData, error) {
	d := &uiPlatformsData{uiPage: s.uiBase(r, "Platforms", "platforms")}
	for _, c := range s.Connections.Registry.All() {
		key := c.Platform()
		st, err := s.Connections.AppStatus(r.Context(), p, key)
		if err != nil {
			return nil, err
		}
		caps := c.Capabilities()
		a := &uiPlatformApp{AppStatus: st, Name: uiPlatformName(key), OAuth: caps.OAuth, Webhooks: caps.Webhooks, Form: newUIForm("app-" + key)}
		a.Form.Values["client_id"] = st.ClientID
		_, connecter := c.(connector.Connecter)
		switch {
		case key == "mastodon":
			a.OAuth = false
			a.Note = "No app to enter: the hub registers itself, with the callback address below, on each Mastodon instance the first time someone signs in there."
		case !caps.OAuth && !caps.Webhooks && connecter:
			a.Note = "No app needed: channels connect with the account's own credentials (a token or app password) on the channel's page."
		case !caps.OAuth && !caps.Webhooks:
			a.Note = "No app needed."
		}
		d.Apps = append(d.Apps, a)
	}
	s.uiTakeFlash(w, r, &d.uiPage)
	return d, nil
}

func (s *Server) uiPlatforms(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	d, err := s.uiLoadPlatforms(w, r, p)
	if err != nil {
		return err
	}
	s.uiRender(w, r, http.StatusOK, "platforms", d)
	return nil
}

func (s *Server) uiPlatformSet(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	key := r.PathValue("key")
	f := newUIForm("app-"+key).fill(r, "client_id")
	in := connection.AppInput{ClientID: f.Values["client_id"],
		ClientSecret:  secret.Secret(strings.TrimSpace(r.PostFormValue("client_secret"))),
		WebhookSecret: secret.Secret(strings.TrimSpace(r.PostFormValue("webhook_secret"))),
		VerifyToken:   secret.Secret(strings.TrimSpace(r.PostFormValue("verify_token")))}
	if _, err := s.Connections.SetApp(r.Context(), p, key, in); err != nil {
		if !uiConnFailure(err) {
			return err
		}
		f.fail(s, r, err, uiAppFields...)
		d, lerr := s.uiLoadPlatforms(w, r, p)
		if lerr != nil {
			return lerr
		}
		for _, a := range d.Apps {
			if a.Platform == key {
				a.Form = f
			}
		}
		s.uiRender(w, r, statusOf(err), "platforms", d)
		return nil
	}
	s.uiSetFlash(w, "Saved the "+uiPlatformName(key)+" app.")
	http.Redirect(w, r, "/admin/platforms#app-"+url.PathEscape(key), http.StatusSeeOther)
	return nil
}
