package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vernetzen/vernetzen/internal/access"
)

// TestBrowserCreateChannel walks login → directory → new channel → unit
// page in a real headless Chromium, so the pages are tested as a browser
// runs them: the CSP, the embedded scripts, htmx and the forms' redirects.
// It runs when VERNETZEN_TEST_BROWSER names the browser binary (.ci/run
// sets it to Debian's chromium). With VERNETZEN_TEST_SCREENSHOTS set to a
// directory it also saves screenshots of the directory and the hub there.
func TestBrowserCreateChannel(t *testing.T) {
	exe := os.Getenv("VERNETZEN_TEST_BROWSER")
	if exe == "" {
		t.Skip("set VERNETZEN_TEST_BROWSER to a Chromium binary to run the browser test")
	}
	e := newTestEnv(t)
	e.user("mini@example.com", "mini", access.RoleManager)

	// Flags for a root user in a container: no sandbox, no GPU, and
	// nothing that reaches out to Google's services during the test.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
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
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	// The first run starts the browser; it gets the browser's context
	// without a deadline (a deadline there would end the browser), and
	// every later step runs under its own timeout.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	value := func(a chromedp.Action[string]) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	shots := os.Getenv("VERNETZEN_TEST_SCREENSHOTS")
	screenshot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		ctx, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := e.http.URL

	// An anonymous visit to the directory goes through the login page and
	// comes back.
	step("log in",
		chromedp.Navigate(base+"/directory"),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), "mini@example.com"),
		chromedp.SendKeys(chromedp.ID("login-password"), "password-mini@example.com"),
		chromedp.Submit(chromedp.ID("login-form")),
		chromedp.WaitVisible(chromedp.ID("results")),
	)
	if loc := value(chromedp.Location()); !strings.HasSuffix(loc, "/directory") {
		t.Fatalf("after login at %s", loc)
	}
	if text := value(chromedp.Text(chromedp.ID("results"))); !strings.Contains(text, "MINI SPACE") || strings.Contains(text, "Rolls") {
		t.Fatalf("directory shows:\n%s", text)
	}
	screenshot("directory.png")

	// The live filter: htmx (loaded under the CSP from /static, with the
	// page's config) swaps the results in and pushes the filter into the
	// address bar.
	step("live filter",
		chromedp.Poll[chromedp.Void](`window.htmx && htmx.config.historyCacheSize === 0 && !htmx.config.allowEval`,
			chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.SendKeys(chromedp.ID("filter-q"), "united"),
		chromedp.Poll[chromedp.Void](`location.search.includes("q=united") && !document.getElementById("results").innerText.includes("MINI SPACE")`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	if text := value(chromedp.Text(chromedp.ID("results"))); !strings.Contains(text, "MINI UNITED") {
		t.Fatalf("filtered directory shows:\n%s", text)
	}

	// A new channel on MINI SPACE, then the unit page lists it.
	step("new channel",
		chromedp.Navigate(base+"/channels/new?unit=mini-space"),
		chromedp.WaitVisible(chromedp.ID("new-channel")),
		chromedp.SetValue(chromedp.ID("channel-platform"), "instagram"),
		chromedp.SendKeys(chromedp.ID("channel-url"), "instagram.com/mini.space.official/"),
		chromedp.SendKeys(chromedp.ID("channel-name"), "MINI SPACE Instagram"),
		chromedp.Submit(chromedp.ID("new-channel")),
		chromedp.WaitVisible(chromedp.ID("unit-channels")),
	)
	if loc := value(chromedp.Location()); !strings.HasSuffix(loc, "/units/mini-space") {
		t.Fatalf("after create at %s", loc)
	}
	text := value(chromedp.Text(chromedp.ID("unit-channels")))
	if !strings.Contains(text, "MINI SPACE Instagram") || !strings.Contains(text, "mini.space.official") {
		t.Fatalf("unit page lists:\n%s", text)
	}
	screenshot("unit.png")
	if flash := value(chromedp.Text(chromedp.CSS(".flash"))); !strings.Contains(flash, "Added channel MINI SPACE Instagram") {
		t.Errorf("flash: %q", flash)
	}

	// A bad address shows its error beside the field, the input kept.
	step("bad channel",
		chromedp.Navigate(base+"/channels/new?unit=mini"),
		chromedp.WaitVisible(chromedp.ID("new-channel")),
		chromedp.SetValue(chromedp.ID("channel-platform"), "x"),
		chromedp.SendKeys(chromedp.ID("channel-url"), "facebook.com/MINI"),
		chromedp.Submit(chromedp.ID("new-channel")),
		chromedp.WaitVisible(chromedp.ID("channel-url-error")),
	)
	screenshot("channel-error.png")
	if msg := value(chromedp.Text(chromedp.ID("channel-url-error"))); !strings.Contains(msg, "Facebook address") {
		t.Errorf("url error: %q", msg)
	}
	if v := value(chromedp.Value(chromedp.ID("channel-url"))); v != "facebook.com/MINI" {
		t.Errorf("url input after the error: %q", v)
	}

	step("hub", chromedp.Navigate(base+"/hub"), chromedp.WaitVisible(chromedp.CSS(".brand-card")))
	screenshot("hub.png")
}
