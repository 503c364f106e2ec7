package web

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vernetzen/vernetzen/internal/access"
)

// browserSettings logs a manager of unit into a headless Chromium (when
// VERNETZEN_TEST_BROWSER names one) and returns the test's hub and steps.
func browserSettings(t *testing.T, email, unit, page string) (*testEnv, func(string, ...chromedp.Action[chromedp.Void]), func(chromedp.Action[string]) string, func(string)) {
	t.Helper()
	exe := os.Getenv("VERNETZEN_TEST_BROWSER")
	if exe == "" {
		t.Skip("set VERNETZEN_TEST_BROWSER to a Chromium binary to run the browser test")
	}
	e := newTestEnv(t)
	e.user(email, unit, access.RoleManager)
	step, value, screenshot := startBrowser(t, exe)
	step("log in",
		chromedp.Navigate(e.http.URL+page),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), email),
		chromedp.SendKeys(chromedp.ID("login-password"), "password-"+email),
		chromedp.Submit(chromedp.ID("login-form")),
		chromedp.WaitVisible(chromedp.CSS(".settings-tabs")),
		// htmx is loaded (under the CSP) and has set the page up (it does
		// on DOMContentLoaded) before the page is used.
		chromedp.Poll[chromedp.Void](`window.htmx && htmx.config.historyCacheSize === 0 && document.readyState === "complete"`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	return e, step, value, screenshot
}

// TestBrowserSLASettings: choose a unit (htmx swaps its settings in and
// pushes the address), set its targets, hours and time zone, see them
// applied; a bad value shows beside its input.
func TestBrowserSLASettings(t *testing.T) {
	e, step, value, screenshot := browserSettings(t, "de@example.com", "bmw-de", "/inbox/settings/sla")
	step("choose a dealer",
		chromedp.SetValue(chromedp.ID("sla-unit-select"), "bmw-hamburg-hafen"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("sla-unit-select").dispatchEvent(new Event("change", {bubbles: true}))`),
		chromedp.Poll[chromedp.Void](`location.search.includes("unit=bmw-hamburg-hafen") && document.querySelector('#sla-form input[name="unit"]').value === "bmw-hamburg-hafen"`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	step("a bad target",
		chromedp.SendKeys(chromedp.ID("sla-target-sales"), "-3"),
		chromedp.Submit(chromedp.ID("sla-form")),
		chromedp.WaitVisible(chromedp.ID("sla-target-sales-error")),
	)
	if msg := value(chromedp.Text(chromedp.ID("sla-target-sales-error"))); !strings.Contains(msg, "1 to 43200") {
		t.Fatalf("error beside the target: %q", msg)
	}
	step("save",
		chromedp.SetValue(chromedp.ID("sla-target-sales"), "45"),
		chromedp.Click(chromedp.ID("sla-day-mon")),
		chromedp.Click(chromedp.ID("sla-day-tue")),
		chromedp.SetValue(chromedp.ID("sla-start"), "08:30"),
		chromedp.SetValue(chromedp.ID("sla-end"), "18:00"),
		chromedp.SendKeys(chromedp.ID("sla-time_zone"), "Europe/Vienna"),
		chromedp.Submit(chromedp.ID("sla-form")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	screenshot("inbox-sla.png")
	if text := value(chromedp.Text(chromedp.CSS(".sla-table"))); !strings.Contains(text, "sales\t45 min\tthis unit") && !strings.Contains(text, "45 min") {
		t.Fatalf("targets after saving:\n%s", text)
	}
	if text := value(chromedp.Text(chromedp.ID("settings-body"))); !strings.Contains(text, "mon, tue 08:30–18:00") || !strings.Contains(text, "Europe/Vienna") {
		t.Fatalf("clock after saving:\n%s", text)
	}
	var v struct {
		Own map[string]int `json:"own"`
	}
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	if e.do(adm, "GET", "/api/v1/inbox/sla?unit=bmw-hamburg-hafen", nil, &v); v.Own["sales"] != 45 {
		t.Fatalf("stored: %+v", v)
	}
}

// TestBrowserSavedReplies: write a saved reply and watch the live preview
// fill its variables in, save it, edit it, delete it.
func TestBrowserSavedReplies(t *testing.T) {
	_, step, value, screenshot := browserSettings(t, "de@example.com", "bmw-de", "/inbox/settings/saved-replies")
	step("write",
		chromedp.SetValue(chromedp.ID("saved-unit"), "bmw-de"),
		chromedp.SendKeys(chromedp.ID("saved-name"), "Dank"),
		chromedp.SendKeys(chromedp.ID("saved-text"), "Danke {{author.name}}, Ihr Team von {{unit.name}}"),
		chromedp.Poll[chromedp.Void](`(document.getElementById("saved-preview-text") || {}).innerText === "Danke Alex Beispiel, Ihr Team von BMW Deutschland"`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	screenshot("inbox-saved-preview.png")
	step("save",
		chromedp.Click(chromedp.ID("saved-save")),
		chromedp.WaitVisible(chromedp.ID("saved-list")),
	)
	if text := value(chromedp.Text(chromedp.ID("saved-list"))); !strings.Contains(text, "Dank") || !strings.Contains(text, "{{author.name}}") {
		t.Fatalf("list:\n%s", text)
	}
	step("edit",
		chromedp.Click(chromedp.CSS(`#saved-list a.btn`)),
		chromedp.WaitVisible(chromedp.ID("saved-text")),
		chromedp.SetValue(chromedp.ID("saved-text"), "Vielen Dank, {{author.handle}}!"),
		chromedp.Click(chromedp.ID("saved-save")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if text := value(chromedp.Text(chromedp.ID("saved-list"))); !strings.Contains(text, "Vielen Dank, {{author.handle}}!") {
		t.Fatalf("after editing:\n%s", text)
	}
	step("delete",
		chromedp.Click(chromedp.CSS(`#saved-list form button`)),
		chromedp.WaitNotPresent(chromedp.ID("saved-list")),
	)
}

// TestBrowserRoutingRules: add a rule from the form; the list shows it.
func TestBrowserRoutingRules(t *testing.T) {
	_, step, value, screenshot := browserSettings(t, "de@example.com", "bmw-de", "/inbox/settings/routing")
	step("a bad queue",
		chromedp.SetValue(chromedp.ID("rule-unit"), "bmw-de"),
		chromedp.SendKeys(chromedp.ID("rule-keywords"), "Flotte\nFirmenwagen"),
		chromedp.SendKeys(chromedp.ID("rule-queue"), "Fleet!"),
		chromedp.Submit(chromedp.ID("rule-form")),
		chromedp.WaitVisible(chromedp.ID("rule-queue-error")),
	)
	if v := value(chromedp.Value(chromedp.ID("rule-keywords"))); v != "Flotte\nFirmenwagen" {
		t.Fatalf("keywords kept: %q", v)
	}
	step("add",
		chromedp.SetValue(chromedp.ID("rule-queue"), "fleet"),
		chromedp.SetValue(chromedp.ID("rule-lang"), "de"),
		chromedp.Submit(chromedp.ID("rule-form")),
		chromedp.WaitVisible(chromedp.ID("rule-list")),
	)
	screenshot("inbox-routing.png")
	if text := value(chromedp.Text(chromedp.ID("rule-list"))); !strings.Contains(text, "Flotte, Firmenwagen") || !strings.Contains(text, "fleet") {
		t.Fatalf("rules:\n%s", text)
	}
}

// TestBrowserCatalogue: add a model to a brand's catalogue.
func TestBrowserCatalogue(t *testing.T) {
	_, step, value, screenshot := browserSettings(t, "bmw@example.com", "bmw", "/catalogue")
	step("open BMW",
		chromedp.Click(chromedp.CSS(`a[href="/catalogue/bmw"]`)),
		chromedp.WaitVisible(chromedp.ID("model-form")),
		chromedp.SendKeys(chromedp.ID("model-name"), "Nordlicht"),
		chromedp.SendKeys(chromedp.ID("model-aliases"), "NL"),
		chromedp.Submit(chromedp.ID("model-form")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	screenshot("catalogue.png")
	if text := value(chromedp.Text(chromedp.ID("model-list"))); !strings.Contains(text, "Nordlicht") {
		t.Fatalf("models:\n%s", text)
	}
	if text := value(chromedp.Text(chromedp.CSS(".lede"))); !strings.Contains(text, "version 1") {
		t.Fatalf("lede: %q", text)
	}
}

// TestBrowserInboxLive: a message ingested while the inbox is open
// appears in its table without a reload (server-sent event → htmx fetches
// the new rows), and the next one after it too.
func TestBrowserInboxLive(t *testing.T) {
	exe := os.Getenv("VERNETZEN_TEST_BROWSER")
	if exe == "" {
		t.Skip("set VERNETZEN_TEST_BROWSER to a Chromium binary to run the browser test")
	}
	e := newTestEnv(t)
	adm := e.user("admin@example.com", "group", access.RoleAdmin)
	e.user("agent@example.com", "bmw-de", access.RoleAgent)
	de := e.channelOf("bmw-de")
	ingest := func(ext, text string) int64 {
		var got ingestAnswer
		if st := e.do(adm, "POST", "/api/v1/messages", map[string]any{"messages": []any{msgIn(de, ext, "p-"+ext, text)}}, &got); st != 202 {
			t.Fatalf("ingest: %d", st)
		}
		var list messageList
		e.do(adm, "GET", "/api/v1/messages?limit=1", nil, &list)
		return list.Items[0].ID
	}
	ingest("live0", "Wann hat der Laden am Samstag offen?")
	step, value, screenshot := startBrowser(t, exe)
	step("log in",
		chromedp.Navigate(e.http.URL+"/inbox"),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), "agent@example.com"),
		chromedp.SendKeys(chromedp.ID("login-password"), "password-agent@example.com"),
		chromedp.Submit(chromedp.ID("login-form")),
		chromedp.WaitVisible(chromedp.ID("inbox-rows")),
		chromedp.Poll[chromedp.Void](`window.htmx !== undefined && document.readyState === "complete"`, chromedp.WithPollingTimeout(10*time.Second)),
		// A mark that a reload would wipe.
		chromedp.Evaluate[chromedp.Void](`window.noReload = true`),
	)
	// The page's event stream is open (the server subscribed it before
	// it answered).
	step("stream open", chromedp.Poll[chromedp.Void](`document.body.dataset.live === "on"`, chromedp.WithPollingTimeout(10*time.Second)))
	for _, text := range []string{"Ich hätte gern ein Angebot für den X3.", "Und was kostet der iX1?"} {
		id := ingest(strings.ReplaceAll(text[:8], " ", ""), text)

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		for {
			state := value(chromedp.Evaluate[string](fmt.Sprintf(`JSON.stringify([document.querySelector('#inbox-rows tr[data-id="%d"]') !== null, window.noReload === true, document.getElementById("inbox-after").value])`, id)))
			if state == fmt.Sprintf(`[true,true,"%d"]`, id) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("message %d not shown live: %s", id, state)
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
	}
	screenshot("inbox-live.png")
	if text := value(chromedp.Text(chromedp.CSS(`#inbox-rows tr:first-child`))); !strings.Contains(text, "iX1") {
		t.Fatalf("first row: %q", text)
	}
	if summary := value(chromedp.Text(chromedp.CSS(".summary"))); summary != "3 messages" {
		t.Fatalf("count after the live rows: %q", summary)
	}
	if banner := value(chromedp.Text(chromedp.CSS(".inbox-live"))); banner != "" {
		t.Fatalf("banner beside the live rows: %q", banner)
	}
}
