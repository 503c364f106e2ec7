package web

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/errs"
)

// Failing at someone's address from one place locks that place out, not
// the person; guessing spread over many places or many addresses is still
// stopped by the totals.
func TestLoginThrottlingPerClient(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	e.user("carla@example.com", "mini", access.RoleViewer)
	right := "password-carla@example.com"
	attacker, carla := "203.0.113.9", "198.51.100.7"
	for i := 0; i < access.MaxLoginFailures; i++ {
		if _, _, err := e.access.Login(ctx, "carla@example.com", "guess", attacker); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, _, err := e.access.Login(ctx, "carla@example.com", right, attacker); !errs.Is(err, errs.RateLimited) {
		t.Fatalf("the attacker's place is not throttled: %v", err)
	}
	if _, _, err := e.access.Login(ctx, "carla@example.com", right, carla); err != nil {
		t.Fatalf("carla is locked out by someone else's failures: %v", err)
	}

	// Many places at one address: the address total.
	for i := 0; i < access.MaxAddressFailures; i++ {
		e.access.Login(ctx, "carla@example.com", "guess", fmt.Sprintf("10.1.%d.%d", i/200, i%200))
	}
	if _, _, err := e.access.Login(ctx, "carla@example.com", right, "10.9.9.9"); !errs.Is(err, errs.RateLimited) {
		t.Fatalf("guessing from %d places is not stopped: %v", access.MaxAddressFailures, err)
	}

	// One place at many addresses: the client total.
	sprayer := "192.0.2.66"
	for i := 0; i < access.MaxClientFailures; i++ {
		e.access.Login(ctx, fmt.Sprintf("user%d@example.com", i), "guess", sprayer)
	}
	e.user("dora@example.com", "mini", access.RoleViewer)
	if _, _, err := e.access.Login(ctx, "dora@example.com", "password-dora@example.com", sprayer); !errs.Is(err, errs.RateLimited) {
		t.Fatalf("spraying %d addresses from one place is not stopped: %v", access.MaxClientFailures, err)
	}
}

func TestClientIP(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, remote, xff string
		trusted           bool
		want              string
	}{
		{"direct", "198.51.100.7:4242", "", true, "198.51.100.7"},
		{"a client's own header is ignored", "198.51.100.7:4242", "1.2.3.4", true, "198.51.100.7"},
		{"through a trusted proxy", "127.0.0.1:5000", "198.51.100.7", true, "198.51.100.7"},
		{"through two trusted proxies", "10.0.0.2:5000", "198.51.100.7, 10.0.0.1", true, "198.51.100.7"},
		{"a forged hop left of the real client", "10.0.0.2:5000", "6.6.6.6, 198.51.100.7", true, "198.51.100.7"},
		{"no proxies configured", "127.0.0.1:5000", "198.51.100.7", false, "127.0.0.1"},
		{"IPv6 peer", "[2001:db8::1]:443", "", true, "2001:db8::1"},
	}
	for _, tc := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		var tp = proxies
		if !tc.trusted {
			tp = nil
		}
		if got := clientIP(r, tp); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8, proxy.local"); err == nil {
		t.Error("a host name was taken for a proxy address")
	}
}
