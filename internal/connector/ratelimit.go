package connector

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limiter remembers until when each channel key and app key is rate
// limited. One Limiter is shared by every Client in the process, so a
// limit hit by one job is respected by all the others instead of each
// finding out with its own 429.
type Limiter struct {
	mu     sync.Mutex
	blocks map[string]block
}

type block struct {
	until time.Time
	scope Scope
}

// NewLimiter returns an empty Limiter.
func NewLimiter() *Limiter { return &Limiter{blocks: map[string]block{}} }

// Block marks key as limited until the given time. An earlier block never
// shortens a later one.
func (l *Limiter) Block(key string, until time.Time, scope Scope) {
	if key == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.blocks[key]; ok && b.until.After(until) {
		return
	}
	l.blocks[key] = block{until: until, scope: scope}
}

// BlockedUntil returns the latest block among keys that is still in
// effect at now, or the zero time. Expired blocks are forgotten.
func (l *Limiter) BlockedUntil(now time.Time, keys ...string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var until time.Time
	for _, k := range keys {
		b, ok := l.blocks[k]
		if !ok {
			continue
		}
		if !b.until.After(now) {
			delete(l.blocks, k)
			continue
		}
		if b.until.After(until) {
			until = b.until
		}
	}
	return until
}

func (l *Limiter) scopeOf(now time.Time, channel, app string) Scope {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.blocks[app]; ok && b.until.After(now) {
		return ScopeApp
	}
	return ScopeChannel
}

// ParseRateLimit reads the rate-limit headers platforms use:
// Retry-After (seconds or HTTP date); X-RateLimit-*, X-Rate-Limit-* and
// RateLimit-* Limit/Remaining/Reset, where Reset may be an RFC 3339 time
// (Mastodon), Unix seconds or milliseconds (X, Bluesky, GitHub-style) or
// seconds from now (IETF draft); and the IETF draft's combined "RateLimit:
// limit=…, remaining=…, reset=…". When both Retry-After and a reset are
// given, the later one wins: never come back early. Scope is ScopeChannel.
func ParseRateLimit(h http.Header, now time.Time) RateLimit {
	rl := RateLimit{Limit: -1, Remaining: -1}
	get := func(names ...string) string {
		for _, n := range names {
			if v := strings.TrimSpace(h.Get(n)); v != "" {
				return v
			}
		}
		return ""
	}
	if v := get("X-RateLimit-Limit", "X-Rate-Limit-Limit", "RateLimit-Limit"); v != "" {
		if n, err := strconv.Atoi(firstItem(v)); err == nil {
			rl.Limit, rl.Known = n, true
		}
	}
	if v := get("X-RateLimit-Remaining", "X-Rate-Limit-Remaining", "RateLimit-Remaining"); v != "" {
		if n, err := strconv.Atoi(firstItem(v)); err == nil {
			rl.Remaining, rl.Known = n, true
		}
	}
	if v := get("X-RateLimit-Reset", "X-Rate-Limit-Reset", "RateLimit-Reset"); v != "" {
		if t, ok := parseReset(firstItem(v), now); ok {
			rl.Reset, rl.Known = t, true
		}
	}
	if v := h.Get("RateLimit"); v != "" { // IETF draft combined form
		for _, part := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil {
				continue
			}
			switch strings.TrimSpace(k) {
			case "limit":
				rl.Limit, rl.Known = n, true
			case "remaining":
				rl.Remaining, rl.Known = n, true
			case "reset":
				rl.Reset, rl.Known = now.Add(time.Duration(n)*time.Second), true
			}
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		var t time.Time
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			t = now.Add(time.Duration(n) * time.Second)
		} else if d, err := http.ParseTime(v); err == nil {
			t = d
		}
		if !t.IsZero() {
			rl.Known, rl.RetryAfter = true, t
			if t.After(rl.Reset) {
				rl.Reset = t
			}
		}
	}
	return rl
}

func firstItem(v string) string {
	v, _, _ = strings.Cut(v, ",")
	v, _, _ = strings.Cut(v, ";")
	return strings.TrimSpace(v)
}

func parseReset(v string, now time.Time) (time.Time, bool) {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		switch {
		case n > 1e12: // Unix milliseconds
			return time.UnixMilli(int64(n)), true
		case n > 1e9: // Unix seconds
			return time.Unix(int64(n), 0), true
		default: // seconds from now
			return now.Add(time.Duration(n * float64(time.Second))), true
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t, true
	}
	return time.Time{}, false
}
