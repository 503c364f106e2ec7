package facebook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// Graph API helpers shared by the Facebook and Instagram connectors (both
// speak Meta's Graph API with the same errors, rate-limit headers and
// webhook signatures).

// GraphBase is the versioned Graph API root. Account.BaseURL overrides it
// (tests, a newer version); it must include the version path.
const GraphBase = "https://graph.facebook.com/v21.0"

// AppUsageWait is how long the app is blocked when X-App-Usage reaches
// 100%. Graph's app limit is a rolling one-hour window and the header
// carries no reset time; a quarter of the window is a conservative guess.
const AppUsageWait = 15 * time.Minute

// GraphError is Graph's error object: {"error": {...}}.
type GraphError struct {
	Message      string `json:"message"`
	Type         string `json:"type"`
	Code         int    `json:"code"`
	ErrorSubcode int    `json:"error_subcode"`
	FBTraceID    string `json:"fbtrace_id"`
	IsTransient  bool   `json:"is_transient"`
	UserMsg      string `json:"error_user_msg"`
}

// ParseGraphError returns the error object of a Graph answer, if any.
func ParseGraphError(body []byte) (GraphError, bool) {
	var b struct {
		Error *GraphError `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil || b.Error == nil || (b.Error.Code == 0 && b.Error.Message == "") {
		return GraphError{}, false
	}
	return *b.Error, true
}

// parseError gives "code" or "code/subcode" and the message (the
// user-facing message when Graph gives one).
func parseError(resp *connector.Response) (string, string) {
	ge, ok := ParseGraphError(resp.Body)
	if !ok {
		return connector.ParseErrorBody(resp)
	}
	code := strconv.Itoa(ge.Code)
	if ge.ErrorSubcode != 0 {
		code += "/" + strconv.Itoa(ge.ErrorSubcode)
	}
	msg := ge.Message
	if ge.UserMsg != "" {
		msg = ge.UserMsg
	}
	return code, msg
}

func mainCode(code string) int {
	c, _, _ := strings.Cut(code, "/")
	n, _ := strconv.Atoi(c)
	return n
}

// authExpired: Graph answers an expired or invalidated token with code
// 190 (OAuthException, usually HTTP 400), sometimes 102, or HTTP 401.
func authExpired(resp *connector.Response, code string) bool {
	switch mainCode(code) {
	case 190, 102:
		return true
	}
	return resp.Status == http.StatusUnauthorized
}

// isRateLimitCode: 4 app, 17 user, 32 page, 613 call-rate, 80001–80014
// business use case (Pages, Instagram, …) limits.
func isRateLimitCode(code int) bool {
	return code == 4 || code == 17 || code == 32 || code == 613 || (code >= 80001 && code <= 80014)
}

// classify maps Graph's codes onto kinds: rate limits come as HTTP 400
// or 403, and is_transient / codes 1 and 2 mean "try again".
func classify(resp *connector.Response, code string) connector.Kind {
	if isRateLimitCode(mainCode(code)) || resp.Status == http.StatusTooManyRequests {
		return connector.KindRateLimited
	}
	if ge, ok := ParseGraphError(resp.Body); ok && (ge.IsTransient || ge.Code == 1 || ge.Code == 2) && resp.Status < 500 {
		return connector.KindTransient
	}
	return 0
}

// usage is one X-App-Usage / X-Business-Use-Case-Usage entry
// (percentages of the quota, and minutes until access returns).
type usage struct {
	CallCount    float64 `json:"call_count"`
	TotalCPUTime float64 `json:"total_cputime"`
	TotalTime    float64 `json:"total_time"`
	Regain       float64 `json:"estimated_time_to_regain_access"`
}

func (u usage) full() bool { return u.CallCount >= 100 || u.TotalCPUTime >= 100 || u.TotalTime >= 100 }

// rateLimit reads Graph's usage headers: X-Business-Use-Case-Usage
// (per business object: the Page or Instagram account, i.e. this channel;
// estimated_time_to_regain_access in minutes) and X-App-Usage (the whole
// app). An app-level error code (4) makes the block app-wide.
func rateLimit(resp *connector.Response, now time.Time) connector.RateLimit {
	rl := connector.ParseRateLimit(resp.Header, now)
	if v := resp.Header.Get("X-Business-Use-Case-Usage"); v != "" {
		var m map[string][]usage
		if json.Unmarshal([]byte(v), &m) == nil {
			for _, us := range m {
				for _, u := range us {
					rl.Known = true
					if u.Regain > 0 {
						if t := now.Add(time.Duration(u.Regain * float64(time.Minute))); t.After(rl.Reset) {
							rl.Reset = t
						}
						rl.Remaining = 0
					} else if u.full() {
						rl.Remaining = 0
					}
				}
			}
		}
	}
	if v := resp.Header.Get("X-App-Usage"); v != "" {
		var u usage
		if json.Unmarshal([]byte(v), &u) == nil {
			rl.Known = true
			if u.full() {
				rl.Remaining, rl.Scope = 0, connector.ScopeApp
				if t := now.Add(AppUsageWait); t.After(rl.Reset) {
					rl.Reset = t
				}
			}
		}
	}
	if ge, ok := ParseGraphError(resp.Body); ok && ge.Code == 4 {
		rl.Scope = connector.ScopeApp
	}
	return rl
}

// AppSecretProof is Graph's appsecret_proof: hex HMAC-SHA256 of the
// access token keyed with the app secret.
func AppSecretProof(accessToken, appSecret string) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte(accessToken))
	return hex.EncodeToString(m.Sum(nil))
}

// authorize sends the token as a Bearer header and, when the app secret
// is known, appsecret_proof (computed per attempt, so a refreshed token
// gets a matching proof).
func authorize(r *http.Request, acct *connector.Account) {
	tok := acct.Credentials.AccessToken.Reveal()
	if tok == "" {
		return
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	if sec := acct.App.ClientSecret.Reveal(); sec != "" {
		q := r.URL.Query()
		q.Set("appsecret_proof", AppSecretProof(tok, sec))
		r.URL.RawQuery = q.Encode()
	}
}

// ConfigureGraphClient sets the Graph behaviour on a Client: error
// parsing, token expiry (code 190), rate-limit codes and usage headers,
// Bearer authorisation with appsecret_proof.
func ConfigureGraphClient(c *connector.Client) {
	c.ParseError = parseError
	c.AuthExpired = authExpired
	c.Classify = classify
	c.RateLimit = rateLimit
	c.Authorize = authorize
}

// WebhookSecret is the key webhook deliveries are signed with: the app
// secret (App.WebhookSecret, or App.ClientSecret when that is unset).
func WebhookSecret(app connector.App) string {
	if s := app.WebhookSecret.Reveal(); s != "" {
		return s
	}
	return app.ClientSecret.Reveal()
}

// Errors of VerifySignature.
var (
	ErrNoSignature  = errors.New("graph webhook: missing X-Hub-Signature-256")
	ErrBadSignature = errors.New("graph webhook: signature does not match")
	ErrNoSecret     = errors.New("graph webhook: no app secret configured")
)

// VerifySignature checks header (the X-Hub-Signature-256 value,
// "sha256=" + hex HMAC-SHA256 of the raw body keyed with the app secret)
// in constant time.
func VerifySignature(header string, body []byte, appSecret string) error {
	if appSecret == "" {
		return ErrNoSecret
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok || hexSig == "" {
		return ErrNoSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrBadSignature
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// Challenge answers Graph's subscription handshake: GET with
// hub.mode=subscribe, hub.verify_token equal to verifyToken (compared in
// constant time) and hub.challenge, which is echoed.
func Challenge(r *http.Request, verifyToken string) (string, bool) {
	if r.Method != http.MethodGet || verifyToken == "" {
		return "", false
	}
	q := r.URL.Query()
	ch := q.Get("hub.challenge")
	if q.Get("hub.mode") != "subscribe" || ch == "" ||
		subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	return ch, true
}

// IsNotFound reports whether err is Graph's "object does not exist"
// (HTTP 404, or code 100 with subcode 33).
func IsNotFound(err error) bool {
	var e *connector.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Status == http.StatusNotFound || e.Code == "100/33"
}
