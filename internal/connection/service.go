package connection

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/errs"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/org"
	"github.com/vernetzen/vernetzen/internal/secret"
)

// Queue is what the service needs of the job queue.
type Queue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) error
}

// Config wires the service.
type Config struct {
	Store    Store
	InTx     func(ctx context.Context, fn func(Store) error) error
	Org      *org.Service
	Registry *connector.Registry
	// Box seals credentials; nil means no key is configured, and the
	// service refuses to store credentials.
	Box *secret.Box
	Log *slog.Logger
	// PollInterval is the pause between polls of a quiet channel
	// (default 1 minute).
	PollInterval time.Duration
	// AudienceInterval is the pause between readings of a channel's
	// followers (default 6 hours).
	AudienceInterval time.Duration
	// PublicURL is the hub's address as browsers reach it, for OAuth
	// callbacks ("https://hub.example.com").
	PublicURL string
	Now       func() time.Time
	// Ingest, when set, classifies and routes inbound items before they
	// are stored (the inbox's pipeline); it runs outside the storing
	// transaction.
	Ingest Ingester
}

// Ingester prepares inbound messages for storing: the inbox service.
type Ingester interface {
	Prepare(ctx context.Context, msgs []inbox.Message) error
}

// Service connects channels to platforms and polls them.
type Service struct {
	Config
	queue Queue
}

// NewService makes the service; call UseQueue before polling starts.
func NewService(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Minute
	}
	if cfg.AudienceInterval <= 0 {
		cfg.AudienceInterval = 6 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{Config: cfg}
}

// UseQueue gives the service its job queue (which is built after the
// service, because the queue's workers are the service's).
func (s *Service) UseQueue(q Queue) { s.queue = q }

// RegisterWorkers adds the service's job workers to the queue.
func (s *Service) RegisterWorkers(w *river.Workers) {
	river.AddWorker(w, &pollWorker{s: s})
	river.AddWorker(w, &audienceWorker{s: s})
}

// channelFor loads a channel the caller may read, and checks it may manage
// it when manage is set.
func (s *Service) channelFor(ctx context.Context, p *access.Principal, channelID int64, manage bool) (org.Channel, error) {
	c, err := s.Org.Channel(ctx, p, channelID)
	if err != nil {
		return c, err
	}
	if manage && !p.Can(access.ManageDirectory, c.UnitPath) {
		return org.Channel{}, errs.E(errs.Forbidden, "you may not connect channel %d", channelID)
	}
	return c, nil
}

// Status is a channel's connection as the caller may see it: never a
// secret.
type Status struct {
	Connected bool `json:"connected"`
	*Connection
	Capabilities *connector.Capabilities `json:"capabilities,omitempty"`
	// Methods says how the channel can be connected: "token", "oauth".
	Methods []string `json:"methods"`
}

// Status reports a channel's connection.
func (s *Service) Status(ctx context.Context, p *access.Principal, channelID int64) (Status, error) {
	ch, err := s.channelFor(ctx, p, channelID, false)
	if err != nil {
		return Status{}, err
	}
	st := Status{Methods: []string{}}
	if c, ok := s.Registry.Get(ch.Platform); ok {
		caps := c.Capabilities()
		st.Capabilities = &caps
		if _, ok := c.(connector.Connecter); ok {
			st.Methods = append(st.Methods, "token")
		} else if ch.Platform == "rss" {
			st.Methods = append(st.Methods, "feed")
		}
		if _, ok := c.(connector.OAuthFlow); ok {
			st.Methods = append(st.Methods, "oauth")
		}
	}
	conn, found, err := s.Store.ConnectionByChannel(ctx, channelID)
	if err != nil {
		return Status{}, err
	}
	if found {
		st.Connected = conn.State == StateConnected
		st.Connection = &conn
	}
	return st, nil
}

// TokenInput connects a channel with credentials the platform lets a user
// paste: Mastodon {instance_url, access_token}; Bluesky {service_url?,
// identifier, app_password}; the simulator {base_url?, identifier?}; an
// RSS/Atom feed {feed_url}; OAuth platforms that accept a token
// {access_token, refresh_token?}.
type TokenInput struct {
	InstanceURL  string        `json:"instance_url"`
	ServiceURL   string        `json:"service_url"`
	BaseURL      string        `json:"base_url"`
	FeedURL      string        `json:"feed_url"`
	Identifier   string        `json:"identifier"`
	AppPassword  secret.Secret `json:"app_password"`
	AccessToken  secret.Secret `json:"access_token"`
	RefreshToken secret.Secret `json:"refresh_token"`
	ExternalID   string        `json:"external_id"`
}

// SimulatorURL is where the built-in simulator is served, relative to
// the hub's own address.
const SimulatorPath = "/sim"

// ConnectWithToken verifies the credentials with the platform and stores
// them sealed. The answer never holds a secret.
func (s *Service) ConnectWithToken(ctx context.Context, p *access.Principal, channelID int64, in TokenInput) (Status, error) {
	ch, err := s.channelFor(ctx, p, channelID, true)
	if err != nil {
		return Status{}, err
	}
	c, ok := s.Registry.Get(ch.Platform)
	if !ok {
		return Status{}, errs.Field("platform", "vernetzen has no connector for %s channels", ch.Platform)
	}
	acct := &connector.Account{ChannelID: strconv.FormatInt(ch.ID, 10), Handle: ch.Handle, ExternalID: in.ExternalID}
	field := "access_token"
	switch ch.Platform {
	case "mastodon":
		if acct.BaseURL, err = httpsURL("instance_url", in.InstanceURL, false); err != nil {
			return Status{}, err
		}
		if in.AccessToken.IsZero() {
			return Status{}, errs.Field("access_token", "a Mastodon access token is required")
		}
		acct.Credentials = connector.Credentials{AccessToken: in.AccessToken}
	case "bluesky":
		if in.ServiceURL != "" {
			if acct.BaseURL, err = httpsURL("service_url", in.ServiceURL, false); err != nil {
				return Status{}, err
			}
		}
		if in.Identifier == "" {
			return Status{}, errs.Field("identifier", "the account's handle or e-mail is required")
		}
		if in.AppPassword.IsZero() {
			return Status{}, errs.Field("app_password", "an app password is required (Settings → App passwords)")
		}
		acct.Credentials = connector.Credentials{Identifier: in.Identifier, AppPassword: in.AppPassword}
		field = "app_password"
	case "simulator":
		acct.BaseURL = strings.TrimRight(s.PublicURL, "/") + SimulatorPath
		if in.BaseURL != "" {
			if acct.BaseURL, err = httpsURL("base_url", in.BaseURL, true); err != nil {
				return Status{}, err
			}
		}
		acct.Credentials = connector.Credentials{Identifier: in.Identifier, AccessToken: in.AccessToken}
		if acct.Credentials.Identifier == "" {
			acct.Credentials.Identifier = ch.Handle
		}
		field = "identifier"
	case "rss":
		feed := in.FeedURL
		if feed == "" {
			feed = ch.URL
		}
		if acct.BaseURL, err = httpsURL("feed_url", feed, true); err != nil {
			return Status{}, err
		}
		return s.saveConnection(ctx, ch, acct, connector.Profile{})
	default:
		if _, ok := c.(connector.Connecter); !ok {
			return Status{}, errs.Field("platform", "%s channels are connected through the platform's sign-in (OAuth), not with a token", ch.Platform)
		}
		if in.AccessToken.IsZero() {
			return Status{}, errs.Field("access_token", "an access token is required")
		}
		acct.Credentials = connector.Credentials{AccessToken: in.AccessToken, RefreshToken: in.RefreshToken}
	}
	connecter, ok := c.(connector.Connecter)
	if !ok {
		return Status{}, errs.Field("platform", "%s channels can't be connected with a token", ch.Platform)
	}
	if s.Box == nil {
		return Status{}, errNoKey
	}
	app, err := s.app(ctx, ch.Platform, acct.BaseURL)
	if err != nil {
		return Status{}, err
	}
	acct.App = app
	prof, err := connecter.Connect(ctx, acct)
	if err != nil {
		return Status{}, platformError(field, err)
	}
	return s.saveConnection(ctx, ch, acct, prof)
}

var errNoKey = errs.E(errs.Unavailable, "this hub has no secret key, so it can't store credentials: set VERNETZEN_SECRET_KEY or --secret-key-file")

// platformError turns a connector failure into what the caller should see.
func platformError(field string, err error) error {
	msg := err.Error()
	var ce *connector.Error
	if errors.As(err, &ce) && ce.Message != "" {
		msg = ce.Message
	}
	switch connector.KindOf(err) {
	case connector.KindReconnectNeeded, connector.KindPermanent:
		return errs.Field(field, "the platform refused these credentials: %s", msg)
	default:
		return errs.E(errs.Unavailable, "the platform could not be reached; try again: %s", msg)
	}
}

// httpsURL checks a server address; plain http only where allowed (the
// simulator and feeds may be local).
func httpsURL(field, raw string, allowHTTP bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errs.Field(field, "an address is required")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(allowHTTP && u.Scheme == "http")) {
		return "", errs.Field(field, "%q is not an https:// address", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// saveConnection seals the account's credentials, stores the connection
// and schedules its polling, in one transaction. A reconnect keeps the
// old refresh token when the new credentials bring none, so that it is
// never lost.
func (s *Service) saveConnection(ctx context.Context, ch org.Channel, acct *connector.Account, prof connector.Profile) (Status, error) {
	if s.Box == nil {
		return Status{}, errNoKey
	}
	old, found, err := s.Store.ConnectionByChannel(ctx, ch.ID)
	if err != nil {
		return Status{}, err
	}
	if found && acct.Credentials.RefreshToken.IsZero() && old.Sealed != "" {
		if prev, err := connector.OpenCredentials(s.Box, old.Sealed); err == nil && !prev.RefreshToken.IsZero() {
			acct.Credentials.RefreshToken = prev.RefreshToken
		}
	}
	sealed, err := acct.Credentials.Seal(s.Box)
	if err != nil {
		return Status{}, fmt.Errorf("connection: seal credentials: %w", err)
	}
	conn := Connection{ChannelID: ch.ID, Platform: ch.Platform, BaseURL: acct.BaseURL, ExternalID: firstNonEmpty(prof.ExternalID, acct.ExternalID),
		Handle: firstNonEmpty(prof.Handle, acct.Handle), Sealed: sealed, State: StateConnected}
	err = s.InTx(ctx, func(tx Store) error {
		if err := tx.SaveConnection(ctx, &conn); err != nil {
			return err
		}
		if err := s.schedulePoll(ctx, tx.Tx(), ch.ID); err != nil {
			return err
		}
		return s.scheduleAudience(ctx, tx.Tx(), ch.ID)
	})
	if err != nil {
		return Status{}, err
	}
	s.Log.Info("channel connected", "channel", ch.ID, "platform", ch.Platform, "account", conn.Handle)
	return s.Status(ctx, access.SystemPrincipal(), ch.ID)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// Disconnect forgets a channel's credentials; polling stops.
func (s *Service) Disconnect(ctx context.Context, p *access.Principal, channelID int64) error {
	if _, err := s.channelFor(ctx, p, channelID, true); err != nil {
		return err
	}
	return s.Store.DeleteConnection(ctx, channelID)
}

// appSecrets is the sealed part of a platform app.
type appSecrets struct {
	ClientSecret  string `json:"client_secret,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
	VerifyToken   string `json:"verify_token,omitempty"`
}

// app returns the hub's registration with a platform (instance), or the
// zero App when there is none.
func (s *Service) app(ctx context.Context, platform, instance string) (connector.App, error) {
	if platform != "mastodon" {
		instance = ""
	}
	rec, found, err := s.Store.PlatformApp(ctx, platform, instance)
	if err != nil || !found {
		return connector.App{}, err
	}
	app := connector.App{ClientID: rec.ClientID, RedirectURI: s.callbackURL()}
	if rec.Sealed != "" && s.Box != nil {
		b, err := s.Box.Open(rec.Sealed)
		if err != nil {
			return connector.App{}, fmt.Errorf("connection: open app secrets of %s: %w", platform, err)
		}
		var sec appSecrets
		if err := json.Unmarshal(b, &sec); err != nil {
			return connector.App{}, fmt.Errorf("connection: app secrets of %s: %w", platform, err)
		}
		app.ClientSecret, app.WebhookSecret, app.VerifyToken = secret.Secret(sec.ClientSecret), secret.Secret(sec.WebhookSecret), secret.Secret(sec.VerifyToken)
	}
	return app, nil
}

// AppInput is the hub's registration with a platform, entered by a group
// admin from the platform's developer console.
type AppInput struct {
	ClientID      string        `json:"client_id"`
	ClientSecret  secret.Secret `json:"client_secret"`
	WebhookSecret secret.Secret `json:"webhook_secret"`
	VerifyToken   secret.Secret `json:"verify_token"`
}

// AppStatus is a platform app as the API shows it: which secrets are set,
// never their values.
type AppStatus struct {
	Platform         string `json:"platform"`
	ClientID         string `json:"client_id"`
	HasClientSecret  bool   `json:"has_client_secret"`
	HasWebhookSecret bool   `json:"has_webhook_secret"`
	HasVerifyToken   bool   `json:"has_verify_token"`
	CallbackURL      string `json:"callback_url"`
	WebhookURL       string `json:"webhook_url"`
}

// SetApp stores a platform's app registration. Only the system or an
// admin of a root unit (a group admin) may.
func (s *Service) SetApp(ctx context.Context, p *access.Principal, platform string, in AppInput) (AppStatus, error) {
	if !isGroupAdmin(p) {
		return AppStatus{}, errs.E(errs.Forbidden, "only a group admin sets up platform apps")
	}
	if _, ok := s.Registry.Get(platform); !ok {
		return AppStatus{}, errs.E(errs.NotFound, "no connector for platform %q", platform)
	}
	if s.Box == nil {
		return AppStatus{}, errNoKey
	}
	if strings.TrimSpace(in.ClientID) == "" && in.WebhookSecret.IsZero() {
		return AppStatus{}, errs.Field("client_id", "a client id (or at least a webhook secret) is required")
	}
	b, _ := json.Marshal(appSecrets{ClientSecret: in.ClientSecret.Reveal(), WebhookSecret: in.WebhookSecret.Reveal(), VerifyToken: in.VerifyToken.Reveal()})
	sealed, err := s.Box.Seal(b)
	if err != nil {
		return AppStatus{}, err
	}
	if err := s.Store.SavePlatformApp(ctx, AppRecord{Platform: platform, ClientID: strings.TrimSpace(in.ClientID), Sealed: sealed}); err != nil {
		return AppStatus{}, err
	}
	return s.AppStatus(ctx, p, platform)
}

// AppStatus shows a platform's app registration without its secrets.
func (s *Service) AppStatus(ctx context.Context, p *access.Principal, platform string) (AppStatus, error) {
	if !isGroupAdmin(p) {
		return AppStatus{}, errs.E(errs.Forbidden, "only a group admin sees platform apps")
	}
	if _, ok := s.Registry.Get(platform); !ok {
		return AppStatus{}, errs.E(errs.NotFound, "no connector for platform %q", platform)
	}
	app, err := s.app(ctx, platform, "")
	if err != nil {
		return AppStatus{}, err
	}
	return AppStatus{Platform: platform, ClientID: app.ClientID, HasClientSecret: !app.ClientSecret.IsZero(),
		HasWebhookSecret: !app.WebhookSecret.IsZero(), HasVerifyToken: !app.VerifyToken.IsZero(),
		CallbackURL: s.callbackURL(), WebhookURL: strings.TrimRight(s.PublicURL, "/") + "/hooks/" + platform}, nil
}

func isGroupAdmin(p *access.Principal) bool {
	if p == nil {
		return false
	}
	if p.System {
		return true
	}
	for _, g := range p.Grants {
		if g.Role == access.RoleAdmin && strings.Count(g.UnitPath, "/") == 2 {
			return true
		}
	}
	return false
}

func (s *Service) callbackURL() string {
	return strings.TrimRight(s.PublicURL, "/") + "/oauth/callback"
}

// hashState hashes an OAuth state parameter for storage.
func hashState(state string) string {
	m := hmac.New(sha256.New, []byte("vernetzen-oauth-state"))
	m.Write([]byte(state))
	return fmt.Sprintf("%x", m.Sum(nil))
}

// HandleWebhook answers a platform's push to /hooks/{platform}: the
// subscription handshake (GET) or a delivery (POST), which must carry a
// valid signature; unsigned or badly signed deliveries are refused with
// Unauthorized and nothing is stored. A delivery seen before is stored
// once. It returns the body to answer with.
func (s *Service) HandleWebhook(ctx context.Context, platform string, r *http.Request, body []byte) (string, error) {
	c, ok := s.Registry.Get(platform)
	if !ok {
		return "", errs.E(errs.NotFound, "no webhooks for platform %q", platform)
	}
	recv, ok := c.(connector.WebhookReceiver)
	if !ok {
		return "", errs.E(errs.NotFound, "no webhooks for platform %q", platform)
	}
	app, err := s.app(ctx, platform, "")
	if err != nil {
		return "", err
	}
	if app.WebhookSecret.IsZero() && app.VerifyToken.IsZero() && app.ClientSecret.IsZero() {
		return "", errs.E(errs.Unauthorized, "webhooks for %s are not set up on this hub", platform)
	}
	if r.Method == http.MethodGet {
		resp, ok := recv.WebhookChallenge(r, app)
		if !ok {
			return "", errs.E(errs.Unauthorized, "the verify token does not match")
		}
		return resp, nil
	}
	if err := recv.VerifyWebhook(r, body, app); err != nil {
		return "", errs.E(errs.Unauthorized, "the delivery's signature does not verify")
	}
	events, err := recv.ParseWebhook(body)
	if err != nil {
		return "", errs.Field("body", "the delivery could not be read: %v", err)
	}
	var msgs []inbox.Message
	for _, ev := range events {
		conns, err := s.Store.ConnectionsByAccount(ctx, platform, ev.AccountExternalID)
		if err != nil {
			return "", err
		}
		for _, conn := range conns {
			msgs = append(msgs, toMessage(conn.ChannelID, ev.Item))
		}
	}
	if len(msgs) > 0 {
		if err := s.prepare(ctx, msgs); err != nil {
			return "", err
		}
		n, err := s.Store.InsertMessages(ctx, msgs)
		if err != nil {
			return "", err
		}
		s.Log.Info("webhook stored", "platform", platform, "events", len(events), "new", n)
	}
	return "ok", nil
}

// prepare runs the inbox's pipeline (classification, routing) over
// messages before they are stored, when the hub has an inbox.
func (s *Service) prepare(ctx context.Context, msgs []inbox.Message) error {
	if s.Ingest == nil || len(msgs) == 0 {
		return nil
	}
	return s.Ingest.Prepare(ctx, msgs)
}

func toMessage(channelID int64, it connector.InboundItem) inbox.Message {
	created := it.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	text := it.Text
	if it.Title != "" && text == "" {
		text = it.Title
	}
	return inbox.Message{ChannelID: channelID, ExternalID: it.ExternalID, Kind: string(it.Kind), AuthorExternalID: it.Author.ExternalID,
		AuthorName: it.Author.Name, AuthorHandle: it.Author.Handle, Text: text, URL: it.URL, InReplyTo: it.InReplyTo,
		ThreadID: it.ThreadID, CreatedAt: created}
}

// Notices returns the caller's unread notices.
func (s *Service) Notices(ctx context.Context, p *access.Principal) ([]Notice, error) {
	if p == nil || p.User.ID == 0 {
		return nil, nil
	}
	return s.Store.UnreadNotices(ctx, p.User.ID)
}

// MarkNoticesRead marks the caller's notices read.
func (s *Service) MarkNoticesRead(ctx context.Context, p *access.Principal) error {
	return s.Store.MarkNoticesRead(ctx, p.User.ID)
}

// MessageCount counts the inbound messages stored for a channel the
// caller may read.
func (s *Service) MessageCount(ctx context.Context, p *access.Principal, channelID int64) (int, error) {
	if _, err := s.channelFor(ctx, p, channelID, false); err != nil {
		return 0, err
	}
	return s.Store.CountMessages(ctx, channelID)
}

// Account opens a connected channel's account and its connector, for the
// publishing workers (publish.Accounts).
func (s *Service) Account(ctx context.Context, channelID int64) (*connector.Account, connector.Connector, error) {
	conn, found, err := s.Store.ConnectionByChannel(ctx, channelID)
	if err != nil {
		return nil, nil, err
	}
	if !found || conn.State != StateConnected {
		return nil, nil, errs.E(errs.Unavailable, "channel %d is not connected to its platform", channelID)
	}
	c, ok := s.Registry.Get(conn.Platform)
	if !ok {
		return nil, nil, errs.E(errs.Unavailable, "no connector for %s", conn.Platform)
	}
	acct, err := s.account(ctx, conn)
	if err != nil {
		return nil, nil, errs.E(errs.Unavailable, "channel %d: credentials unreadable: %v", channelID, err)
	}
	return acct, c, nil
}
