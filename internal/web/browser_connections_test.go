package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector"
	"github.com/vernetzen/vernetzen/internal/connector/all"
)

// TestBrowserConnectChannel connects a simulator channel from its page in
// a real headless Chromium: log in, open the channel, submit the
// connection panel's form, see "Connected". Runs when
// VERNETZEN_TEST_BROWSER names the browser binary.
func TestBrowserConnectChannel(t *testing.T) {
	exe := os.Getenv("VERNETZEN_TEST_BROWSER")
	if exe == "" {
		t.Skip("set VERNETZEN_TEST_BROWSER to a Chromium binary to run the browser test")
	}
	e := newTestEnv(t)
	e.user("de@example.com", "bmw-de", access.RoleManager)
	id := e.channelByHandle("simulator", "bmw_de")

	step, value, screenshot := startBrowser(t, exe)
	channel := fmt.Sprintf("%s/channels/%d", e.http.URL, id)

	step("log in",
		chromedp.Navigate(channel),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), "de@example.com"),
		chromedp.SendKeys(chromedp.ID("login-password"), "password-de@example.com"),
		chromedp.Submit(chromedp.ID("login-form")),
		chromedp.WaitVisible(chromedp.ID("connection")),
	)
	if text := value(chromedp.Text(chromedp.ID("connection-state"))); !strings.Contains(text, "Not connected") {
		t.Fatalf("before: %q", text)
	}
	// The simulator's form is open (not connected yet) and names the
	// channel's account already.
	if v := value(chromedp.Value(chromedp.ID("connect-identifier"))); v != "bmw_de" {
		t.Fatalf("identifier %q", v)
	}
	screenshot("channel-connect.png")
	// The disconnect form only shows on a connected channel's page.
	step("connect",
		chromedp.Click(chromedp.CSS(`#token-connect button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("disconnect")),
	)
	if loc := value(chromedp.Location()); !strings.Contains(loc, fmt.Sprintf("/channels/%d", id)) {
		t.Fatalf("after connect at %s", loc)
	}
	if text := value(chromedp.Text(chromedp.ID("connection-state"))); !strings.Contains(text, "Connected as @bmw_de") {
		t.Fatalf("after: %q", text)
	}
	screenshot("channel-connected.png")
}

// startBrowser starts a headless Chromium for the test and returns its
// steps: run actions, read a value, save a screenshot (when
// VERNETZEN_TEST_SCREENSHOTS names a directory).
func startBrowser(t *testing.T, exe string, flags ...chromedp.ExecAllocatorOption) (step func(string, ...chromedp.Action[chromedp.Void]), value func(chromedp.Action[string]) string, screenshot func(string)) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, flags...)...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	step = func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	value = func(a chromedp.Action[string]) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	screenshot = func(name string) {
		t.Helper()
		dir := os.Getenv("VERNETZEN_TEST_SCREENSHOTS")
		if dir == "" {
			return
		}
		ctx, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return step, value, screenshot
}

// TestBrowserMastodonSignIn goes the whole sign-in way in Chromium:
// "Sign in with Mastodon" on the channel page → the instance's authorize
// page (a fake that approves at once) → the hub's callback → the channel
// page, connected. It checks that the page's policy lets the form's
// redirect leave the site (Chromium applies CSP form-action to it).
func TestBrowserMastodonSignIn(t *testing.T) {
	exe := os.Getenv("VERNETZEN_TEST_BROWSER")
	if exe == "" {
		t.Skip("set VERNETZEN_TEST_BROWSER to a Chromium binary to run the browser test")
	}
	e := newTestEnv(t)
	fake := newFakeMastodon(t)
	fake.approve = true
	e.conn.Registry = all.Registry(connector.Options{HTTP: fake.srv.Client(), Limiter: connector.NewLimiter()})
	e.user("de@example.com", "bmw-de", access.RoleManager)
	id := e.channelByHandle("mastodon", "bmw_de@social.example")
	// The fake instance's certificate is the test server's own.
	step, value, screenshot := startBrowser(t, exe, chromedp.Flag("ignore-certificate-errors", true))
	channel := fmt.Sprintf("%s/channels/%d", e.http.URL, id)

	step("log in",
		chromedp.Navigate(channel),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), "de@example.com"),
		chromedp.SendKeys(chromedp.ID("login-password"), "password-de@example.com"),
		chromedp.Submit(chromedp.ID("login-form")),
		chromedp.WaitVisible(chromedp.ID("oauth-instance_url")),
		chromedp.SetValue(chromedp.ID("oauth-instance_url"), fake.srv.URL),
	)
	step("sign in",
		chromedp.Click(chromedp.CSS(`#oauth-connect button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("disconnect")),
	)
	if text := value(chromedp.Text(chromedp.ID("connection-state"))); !strings.Contains(text, "Connected as @bmw_de@") {
		t.Fatalf("after sign-in: %q", text)
	}
	if loc := value(chromedp.Location()); !strings.HasPrefix(loc, channel) {
		t.Fatalf("after sign-in at %s", loc)
	}
	screenshot("channel-signed-in.png")
}
