package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client is the HTTP client every platform package uses, so that all
// platforms behave the same way on the paths that matter for "nothing
// lost, nothing twice":
//
//   - Each attempt has its own timeout. A write that is not idempotent and
//     whose request was fully sent but whose answer was lost (timeout,
//     reset, cancelled context, unreadable 2xx body, 502/504 from a proxy)
//     fails with KindUnknown, never Transient: it may have been done.
//   - 5xx and network errors are KindTransient. Idempotent requests (GET,
//     PUT, DELETE, or a POST marked Idempotent because it carries a key the
//     platform honours) are retried here with exponential backoff; others
//     are returned so the job queue retries them.
//   - 429 and exhausted quotas (Remaining 0) block the channel's (or the
//     app's) key in the shared Limiter until the platform's reset time;
//     while blocked, requests fail fast with KindRateLimited without
//     touching the network, so no caller hammers a limited platform.
//   - An expired token (401, or what the platform's AuthExpired says) is
//     refreshed once through the Refresher, the new credentials are saved
//     through Account.SaveCredentials, and the request is retried once. A
//     refused refresh, or a second 401, is KindReconnectNeeded.
//
// A Client is safe for concurrent use once configured. Only Platform is
// required; the rest has defaults. Tests inject Now and Sleep so that no
// test ever waits for real time.
type Client struct {
	// Platform names the platform in errors and limiter keys.
	Platform string
	// HTTP sends the requests; nil means a client without a global
	// timeout (Timeout applies per attempt).
	HTTP *http.Client
	// Limiter remembers rate-limit resets; share one per process so all
	// connectors and workers see the same blocks. nil = a private one.
	Limiter *Limiter
	// Now and Sleep are the clock; nil = real time.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Timeout bounds each attempt; default 30s.
	Timeout time.Duration
	// MaxAttempts bounds attempts of idempotent requests on transient
	// errors; default 3. Non-idempotent requests are sent once.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the exponential backoff; defaults
	// 500ms and 30s.
	BackoffBase, BackoffMax time.Duration
	// MaxWait: a rate-limit block ending within MaxWait is waited out
	// (via Sleep) instead of failing; default 0 (fail fast, let the job
	// queue reschedule at Error.RetryAt).
	MaxWait time.Duration
	// DefaultRateLimitWait is used for a 429 without any reset header;
	// default one minute.
	DefaultRateLimitWait time.Duration
	// UserAgent is sent with every request.
	UserAgent string

	// Authorize sets authentication on an outgoing request from the
	// account's credentials; nil = "Authorization: Bearer <AccessToken>".
	Authorize func(r *http.Request, acct *Account)
	// Refresher renews expired credentials; nil = expiry means reconnect.
	Refresher Refresher
	// RefreshSkew refreshes proactively this long before ExpiresAt;
	// default one minute.
	RefreshSkew time.Duration
	// ParseError extracts the platform's error code and message from a
	// non-2xx answer; nil = ParseErrorBody.
	ParseError func(resp *Response) (code, message string)
	// AuthExpired says whether a non-2xx answer means the access token is
	// no longer valid; nil = status 401.
	AuthExpired func(resp *Response, code string) bool
	// RateLimit reads rate-limit state from an answer; nil =
	// ParseRateLimit with ScopeChannel.
	RateLimit func(resp *Response, now time.Time) RateLimit
	// Classify, if set, may override the kind of a non-2xx answer (return
	// 0 to keep the default), e.g. a platform that answers 400 for a
	// transient condition.
	Classify func(resp *Response, code string) Kind

	initOnce  sync.Once
	refreshMu sync.Mutex
	refreshes map[string]*channelRefresh
}

// channelRefresh serialises refreshes of one channel within the process
// and remembers the last result, so that two jobs holding the same old
// token do not both spend a refresh token (platforms that rotate refresh
// tokens would reject the second and disconnect the channel).
type channelRefresh struct {
	mu     sync.Mutex
	latest *Credentials
}

// Request is one HTTP request through the Client.
type Request struct {
	// Op names the operation in errors; default "METHOD path".
	Op     string
	Method string
	URL    string
	Header http.Header
	// Body is the request body; GetBody, if set, is used instead (and
	// called again for every attempt), for bodies too large to hold.
	Body        []byte
	GetBody     func() (io.ReadCloser, error)
	ContentType string
	// Idempotent marks a write the platform deduplicates (a POST with an
	// Idempotency-Key); GET, HEAD, PUT, DELETE and OPTIONS always are.
	Idempotent bool
	// NoAuth: do not call Authorize (token endpoints, public reads).
	NoAuth bool
	// NoRefresh: an expired-token answer is final (refresh requests
	// themselves, and requests that set their own credentials).
	NoRefresh bool
	// MaxBody bounds the answer's size; default 32 MiB.
	MaxBody int64
}

// Response is a completed answer, body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// RateLimit is what an answer's headers say about the quota.
type RateLimit struct {
	Known     bool // some rate-limit header was present
	Limit     int  // -1 if not given
	Remaining int  // -1 if not given
	Reset     time.Time
	// RetryAfter is the Retry-After header's time alone: on a 5xx it is
	// the server's wish, while a window's Reset is only when the quota
	// refills.
	RetryAfter time.Time
	Scope      Scope
}

// sharedHTTP is the client connectors use unless given one. Go's default
// transport keeps only two idle connections per host, so a post to
// thousands of channels on one platform (one Graph API, one Mastodon
// instance) would pay a TLS handshake for nearly every request; this one
// keeps enough to go on reusing them.
var sharedHTTP = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: t}
}()

func (c *Client) init() {
	c.initOnce.Do(func() {
		if c.HTTP == nil {
			c.HTTP = sharedHTTP
		}
		if c.Limiter == nil {
			c.Limiter = NewLimiter()
		}
		if c.Now == nil {
			c.Now = time.Now
		}
		if c.Sleep == nil {
			c.Sleep = SleepContext
		}
		if c.Timeout == 0 {
			c.Timeout = 30 * time.Second
		}
		if c.MaxAttempts == 0 {
			c.MaxAttempts = 3
		}
		if c.BackoffBase == 0 {
			c.BackoffBase = 500 * time.Millisecond
		}
		if c.BackoffMax == 0 {
			c.BackoffMax = 30 * time.Second
		}
		if c.DefaultRateLimitWait == 0 {
			c.DefaultRateLimitWait = time.Minute
		}
		if c.RefreshSkew == 0 {
			c.RefreshSkew = time.Minute
		}
		c.refreshes = map[string]*channelRefresh{}
	})
}

// SleepContext waits for d or until ctx is done.
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// JSON sends req and decodes a 2xx JSON answer into out (if out is not
// nil). A 2xx answer that does not decode is KindUnknown for a
// non-idempotent write (it was done, but we cannot tell what was made)
// and KindTransient otherwise.
func (c *Client) JSON(ctx context.Context, acct *Account, req *Request, out any) (*Response, error) {
	resp, err := c.Do(ctx, acct, req)
	if err != nil || out == nil {
		return resp, err
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		kind := KindTransient
		if !req.idempotent() {
			kind = KindUnknown
		}
		return resp, &Error{Kind: kind, Platform: c.Platform, Op: req.op(), Status: resp.Status,
			Message: "answer is not the expected JSON", Err: err}
	}
	return resp, nil
}

// Do sends req on behalf of acct (which may be nil for app-level calls)
// and returns the 2xx answer, or an *Error and, if the platform answered,
// its Response.
func (c *Client) Do(ctx context.Context, acct *Account, req *Request) (*Response, error) {
	c.init()
	refreshed := false
	if acct != nil && c.Refresher != nil && !req.NoRefresh && !acct.Credentials.ExpiresAt.IsZero() &&
		!c.Now().Before(acct.Credentials.ExpiresAt.Add(-c.RefreshSkew)) {
		if err := c.refresh(ctx, acct, acct.Credentials.AccessToken.Reveal()); err != nil {
			return nil, err
		}
		refreshed = true
	}
	keys := c.limiterKeys(acct, req)
	for attempt := 1; ; attempt++ {
		if until := c.Limiter.BlockedUntil(c.Now(), keys.channel, keys.app); !until.IsZero() {
			if wait := until.Sub(c.Now()); c.MaxWait > 0 && wait <= c.MaxWait {
				if err := c.Sleep(ctx, wait); err != nil {
					return nil, &Error{Kind: KindTransient, Platform: c.Platform, Op: req.op(), Err: err}
				}
			} else {
				return nil, &Error{Kind: KindRateLimited, Platform: c.Platform, Op: req.op(), RetryAt: until,
					Scope: c.Limiter.scopeOf(c.Now(), keys.channel, keys.app), Message: "rate limit in effect; not sent"}
			}
		}

		usedToken := ""
		if acct != nil {
			usedToken = acct.Credentials.AccessToken.Reveal()
		}
		resp, sent, err := c.send(ctx, acct, req)
		if err != nil {
			kind := KindTransient
			if sent && !req.idempotent() {
				kind = KindUnknown
			}
			e := &Error{Kind: kind, Platform: c.Platform, Op: req.op(), Err: err}
			if resp != nil {
				e.Status = resp.Status
			}
			if kind == KindTransient && ctx.Err() == nil && attempt < c.MaxAttempts && req.idempotent() {
				if c.backoff(ctx, attempt) == nil {
					continue
				}
			}
			e.RetryAt = c.Now().Add(c.backoffDelay(attempt))
			return resp, e
		}

		rl := c.rateLimit(resp)
		if rl.Known && rl.Remaining == 0 && rl.Reset.After(c.Now()) {
			c.Limiter.Block(keys.forScope(rl.Scope), rl.Reset, rl.Scope)
		}
		if resp.Status >= 200 && resp.Status < 300 {
			return resp, nil
		}

		code, msg := c.parseError(resp)
		e := &Error{Platform: c.Platform, Op: req.op(), Status: resp.Status, Code: code, Message: msg}
		if c.authExpired(resp, code) {
			if c.Refresher != nil && !req.NoRefresh && !refreshed && acct != nil {
				refreshed = true
				if err := c.refresh(ctx, acct, usedToken); err != nil {
					return resp, err
				}
				attempt-- // the retry after a refresh is not a transient retry
				continue
			}
			e.Kind = KindReconnectNeeded
			return resp, e
		}
		if k := c.classify(resp, code); k != 0 {
			e.Kind = k
		} else {
			e.Kind = defaultKind(resp.Status, req.idempotent())
		}
		switch e.Kind {
		case KindRateLimited:
			until := rl.Reset
			if !until.After(c.Now()) {
				until = c.Now().Add(c.DefaultRateLimitWait)
			}
			e.RetryAt, e.Scope = until, rl.Scope
			c.Limiter.Block(keys.forScope(rl.Scope), until, rl.Scope)
			if wait := until.Sub(c.Now()); c.MaxWait > 0 && wait <= c.MaxWait && attempt < c.MaxAttempts {
				continue // the loop head waits the block out
			}
		case KindTransient:
			if attempt < c.MaxAttempts && req.idempotent() {
				if c.backoff(ctx, attempt) == nil {
					continue
				}
			}
			e.RetryAt = c.Now().Add(c.backoffDelay(attempt))
			if rl.RetryAfter.After(e.RetryAt) { // 503 with Retry-After
				e.RetryAt = rl.RetryAfter
			}
			if rl.Remaining == 0 && rl.Reset.After(e.RetryAt) { // and the quota spent
				e.RetryAt = rl.Reset
			}
		}
		return resp, e
	}
}

// defaultKind maps a non-2xx status that is neither auth nor handled by
// the platform.
func defaultKind(status int, idempotent bool) Kind {
	switch {
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status == http.StatusRequestTimeout:
		return KindTransient
	case (status == http.StatusBadGateway || status == http.StatusGatewayTimeout) && !idempotent:
		// A proxy gave up waiting; the platform behind it may have acted.
		return KindUnknown
	case status >= 500:
		return KindTransient
	}
	return KindPermanent
}

func (c *Client) send(ctx context.Context, acct *Account, req *Request) (resp *Response, sent bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})
	var body io.Reader
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, false, err
		}
		body = rc
	} else if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		if rc, ok := body.(io.Closer); ok {
			rc.Close()
		}
		return nil, false, err
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if req.ContentType != "" {
		hr.Header.Set("Content-Type", req.ContentType)
	}
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "application/json")
	}
	if c.UserAgent != "" {
		hr.Header.Set("User-Agent", c.UserAgent)
	}
	if acct != nil && !req.NoAuth {
		if c.Authorize != nil {
			c.Authorize(hr, acct)
		} else if tok := acct.Credentials.AccessToken.Reveal(); tok != "" {
			hr.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	hresp, err := c.HTTP.Do(hr)
	if err != nil {
		return nil, wrote.Load(), err
	}
	defer hresp.Body.Close()
	max := req.MaxBody
	if max == 0 {
		max = 32 << 20
	}
	b, err := io.ReadAll(io.LimitReader(hresp.Body, max))
	resp = &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: b}
	if err != nil {
		// The platform answered but the body was lost: treat as sent.
		return resp, true, fmt.Errorf("reading answer: %w", err)
	}
	return resp, true, nil
}

func (c *Client) backoffDelay(attempt int) time.Duration {
	d := c.BackoffBase << (attempt - 1)
	if d > c.BackoffMax || d <= 0 {
		d = c.BackoffMax
	}
	// Equal jitter: half fixed, half random, so retries of many channels
	// that failed together spread out.
	return d/2 + rand.N(d/2+1)
}

func (c *Client) backoff(ctx context.Context, attempt int) error {
	return c.Sleep(ctx, c.backoffDelay(attempt))
}

// refresh renews acct's credentials once, serialised per channel; failed
// is the access token the platform refused.
func (c *Client) refresh(ctx context.Context, acct *Account, failed string) error {
	key := acct.ChannelID
	if key == "" {
		key = acct.BaseURL + "|" + acct.ExternalID + "|" + acct.Handle
	}
	c.refreshMu.Lock()
	cr := c.refreshes[key]
	if cr == nil {
		cr = &channelRefresh{}
		c.refreshes[key] = cr
	}
	c.refreshMu.Unlock()

	cr.mu.Lock()
	defer cr.mu.Unlock()
	if l := cr.latest; l != nil && l.AccessToken.Reveal() != failed &&
		(l.ExpiresAt.IsZero() || c.Now().Before(l.ExpiresAt.Add(-c.RefreshSkew))) {
		// Another job on this node refreshed since our token was issued.
		acct.Credentials = *l
		return nil
	}
	creds, err := c.Refresher.Refresh(ctx, acct)
	if err != nil {
		switch KindOf(err) {
		case KindTransient, KindRateLimited, KindUnknown:
			return err
		}
		e := &Error{Kind: KindReconnectNeeded, Platform: c.Platform, Op: "refresh credentials",
			Message: "the platform refused to renew the credentials; reconnect the channel", Err: err}
		var pe *Error
		if errors.As(err, &pe) {
			e.Status, e.Code = pe.Status, pe.Code
			if pe.Message != "" {
				e.Message = pe.Message
			}
		}
		return e
	}
	if creds.RefreshToken == "" {
		creds.RefreshToken = acct.Credentials.RefreshToken
	}
	if creds.AppPassword == "" {
		creds.AppPassword = acct.Credentials.AppPassword
	}
	if creds.Identifier == "" {
		creds.Identifier = acct.Credentials.Identifier
	}
	acct.Credentials = creds
	if acct.SaveCredentials != nil {
		if err := acct.SaveCredentials(ctx, creds); err != nil {
			return &Error{Kind: KindTransient, Platform: c.Platform, Op: "save refreshed credentials", Err: err}
		}
	}
	cp := creds
	cr.latest = &cp
	return nil
}

func (c *Client) parseError(resp *Response) (string, string) {
	if c.ParseError != nil {
		return c.ParseError(resp)
	}
	return ParseErrorBody(resp)
}

func (c *Client) authExpired(resp *Response, code string) bool {
	if c.AuthExpired != nil {
		return c.AuthExpired(resp, code)
	}
	return resp.Status == http.StatusUnauthorized
}

func (c *Client) classify(resp *Response, code string) Kind {
	if c.Classify != nil {
		return c.Classify(resp, code)
	}
	return 0
}

func (c *Client) rateLimit(resp *Response) RateLimit {
	if c.RateLimit != nil {
		return c.RateLimit(resp, c.Now())
	}
	return ParseRateLimit(resp.Header, c.Now())
}

// BlockedUntil tells a scheduler when acct may next call the platform at
// host (zero = now), so jobs are scheduled after a known rate-limit reset
// instead of failing fast one after another.
func (c *Client) BlockedUntil(acct *Account, host string) time.Time {
	c.init()
	k := c.limiterKeys(acct, &Request{URL: "//" + host})
	return c.Limiter.BlockedUntil(c.Now(), k.channel, k.app)
}

type limiterKeys struct{ channel, app string }

func (k limiterKeys) forScope(s Scope) string {
	if s == ScopeApp {
		return k.app
	}
	return k.channel
}

// limiterKeys: the channel key is the hub's channel id; the app key is
// platform + API host + client id, because a platform's app quota (or a
// Mastodon instance's per-IP quota) is shared by every channel using it.
func (c *Client) limiterKeys(acct *Account, req *Request) limiterKeys {
	host := ""
	if u, err := url.Parse(req.URL); err == nil {
		host = strings.ToLower(u.Host)
	}
	k := limiterKeys{app: "app|" + c.Platform + "|" + host}
	if acct != nil {
		k.app += "|" + acct.App.ClientID
		id := acct.ChannelID
		if id == "" {
			id = acct.BaseURL + "|" + acct.ExternalID + "|" + acct.Handle
		}
		k.channel = "ch|" + c.Platform + "|" + id
	}
	return k
}

func (r *Request) idempotent() bool {
	if r.Idempotent {
		return true
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

func (r *Request) op() string {
	if r.Op != "" {
		return r.Op
	}
	p := r.URL
	if u, err := url.Parse(r.URL); err == nil {
		p = u.Path
	}
	return r.Method + " " + p
}

// ParseErrorBody extracts code and message from the common JSON error
// shapes: {"error": "msg"} (Mastodon), {"error": "Code", "message": "msg"}
// (XRPC), {"error": "code", "error_description": "msg"} (OAuth),
// {"error": {"message": "msg", "code": 190}} (Graph), {"errors":
// [{"message": "msg"}]} and {"detail": "msg"} (X). Anything else gives the
// HTTP status text, never raw HTML.
func ParseErrorBody(resp *Response) (code, message string) {
	var body struct {
		Error       json.RawMessage `json:"error"`
		Message     string          `json:"message"`
		Description string          `json:"error_description"`
		Detail      string          `json:"detail"`
		Title       string          `json:"title"`
		Errors      []struct {
			Message string `json:"message"`
			Code    any    `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(resp.Body, &body) == nil {
		var s string
		var obj struct {
			Message string `json:"message"`
			Code    any    `json:"code"`
			Type    string `json:"type"`
		}
		switch {
		case json.Unmarshal(body.Error, &s) == nil && s != "":
			switch {
			case body.Message != "":
				return s, body.Message
			case body.Description != "":
				return s, body.Description
			}
			return "", s
		case json.Unmarshal(body.Error, &obj) == nil && obj.Message != "":
			if obj.Code != nil {
				return fmt.Sprint(obj.Code), obj.Message
			}
			return obj.Type, obj.Message
		case len(body.Errors) > 0 && body.Errors[0].Message != "":
			if body.Errors[0].Code != nil {
				return fmt.Sprint(body.Errors[0].Code), body.Errors[0].Message
			}
			return "", body.Errors[0].Message
		case body.Detail != "":
			return body.Title, body.Detail
		case body.Message != "":
			return "", body.Message
		}
	}
	return "", http.StatusText(resp.Status)
}

// JSONRequest builds a request with a JSON body.
func JSONRequest(method, rawURL string, v any) (*Request, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Request{Method: method, URL: rawURL, Body: b, ContentType: "application/json"}, nil
}

// FormRequest builds a request with an application/x-www-form-urlencoded
// body.
func FormRequest(method, rawURL string, form url.Values) *Request {
	return &Request{Method: method, URL: rawURL, Body: []byte(form.Encode()),
		ContentType: "application/x-www-form-urlencoded"}
}

// Options are the process-wide dependencies every platform's Client
// shares; package connector/all passes the same Options to each platform.
type Options struct {
	HTTP      *http.Client
	Limiter   *Limiter
	Now       func() time.Time
	Sleep     func(ctx context.Context, d time.Duration) error
	Timeout   time.Duration
	MaxWait   time.Duration
	UserAgent string
}

// NewClient returns a Client for platform configured from o; the platform
// package then sets its hooks (Authorize, Refresher, ParseError, …).
func (o Options) NewClient(platform string) *Client {
	ua := o.UserAgent
	if ua == "" {
		ua = "vernetzen/1 (+https://github.com/vernetzen/vernetzen)"
	}
	return &Client{Platform: platform, HTTP: o.HTTP, Limiter: o.Limiter, Now: o.Now, Sleep: o.Sleep,
		Timeout: o.Timeout, MaxWait: o.MaxWait, UserAgent: ua}
}

// Clock returns o.Now, or time.Now.
func (o Options) Clock() func() time.Time {
	if o.Now != nil {
		return o.Now
	}
	return time.Now
}
