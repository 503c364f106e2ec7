package web

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/publish"
)

// variantMedia uploads two images and a WebM video (which the simulator
// does not take) to bmw-de's library.
func (e *testEnv) variantMedia(tok string) (p1, p2, webm publish.Media) {
	e.t.Helper()
	for _, up := range []struct {
		name string
		data []byte
		into *publish.Media
	}{{"eins.png", testPNG(e.t, 50, 30), &p1}, {"zwei.png", testPNG(e.t, 51, 30), &p2},
		{"clip.webm", append([]byte{0x1A, 0x45, 0xDF, 0xA3}, make([]byte, 200)...), &webm}} {
		if code := e.upload(tok, "bmw-de", up.name, up.data, up.into); code != 201 {
			e.t.Fatalf("upload %s: %d", up.name, code)
		}
	}
	return p1, p2, webm
}

// The composer's variant pickers over plain HTTP: the fragment, the live
// check (out of band into the variant, and the previews), the stored
// post, and a failed submit that keeps the variant's picks.
func TestUIComposeVariantMedia(t *testing.T) {
	e := newTestEnv(t)
	tok := e.user("ed@example.com", "bmw-de", access.RoleEditor)
	p1, p2, webm := e.variantMedia(tok)
	sim, masto := e.channelByHandle("simulator", "bmw_de"), e.channelByHandle("mastodon", "bmw_de@social.example")
	b := e.browser()
	b.login("ed@example.com")
	st, body := b.get("/posts/new")
	if st != 200 || !strings.Contains(body, `<option value="simulator">Every Simulator channel</option>`) ||
		!strings.Contains(body, fmt.Sprintf(`<option value="%d">`, masto)) {
		t.Fatalf("composer: %d\n%s", st, body)
	}
	st, frag := b.get("/posts/variant?target=simulator")
	if st != 200 || !strings.Contains(frag, `name="variant_keys" value="simulator"`) || !strings.Contains(frag, fmt.Sprintf(`name="variant_media.simulator" value="%d"`, webm.ID)) ||
		!strings.Contains(frag, "MP4, MOV") || strings.Contains(frag, "<html") {
		t.Fatalf("variant fragment: %d\n%s", st, frag)
	}
	if st, _ := b.get("/posts/variant?target=99999"); st != 404 {
		t.Fatalf("unknown channel: %d", st)
	}
	form := url.Values{"text": {"Neues Modell"}, "channels": {fmt.Sprint(sim), fmt.Sprint(masto)}, "media": {fmt.Sprint(p1.ID)},
		"variant_keys": {"simulator", fmt.Sprint(masto)}, "variant_media.simulator": {fmt.Sprint(webm.ID)},
		"variant_text." + fmt.Sprint(masto): {"Für Mastodon"}}
	_, _, frag = b.post("/posts/validate", form)
	oob := `id="vcheck-simulator" aria-live="polite" hx-swap-oob="true"`
	i := strings.Index(frag, oob)
	if i < 0 || !strings.Contains(frag[i:], `video type &#34;video/webm&#34; is not accepted`) ||
		!strings.Contains(frag, fmt.Sprintf(`id="vcheck-%d" aria-live="polite" hx-swap-oob="true">`, masto)) || !strings.Contains(frag, "Fits Mastodon") {
		t.Fatalf("variant check:\n%s", frag)
	}
	form.Set("variant_media.simulator", fmt.Sprint(p2.ID))
	_, _, frag = b.post("/posts/validate", form)
	simCard := frag[strings.Index(frag, `data-variant="simulator"`):]
	simCard = simCard[:strings.Index(simCard, "</article>")]
	mastoCard := frag[strings.Index(frag, fmt.Sprintf(`data-variant="channel:%d"`, masto)):]
	mastoCard = mastoCard[:strings.Index(mastoCard, "</article>")]
	if !strings.Contains(frag, "Fits Simulator") || !strings.Contains(simCard, fmt.Sprintf(`data-media="%d"`, p2.ID)) ||
		strings.Contains(simCard, fmt.Sprintf(`data-media="%d"`, p1.ID)) || !strings.Contains(mastoCard, fmt.Sprintf(`data-media="%d"`, p1.ID)) ||
		!strings.Contains(mastoCard, "Für Mastodon") || !strings.Contains(simCard, "Neues Modell") {
		t.Fatalf("previews:\nsimulator: %s\nmastodon: %s", simCard, mastoCard)
	}
	// A failed submit shows the variants again with their picks.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("scheduled_local", "2020-01-01T10:00")
	bad.Set("zone", "Europe/Berlin")
	st, _, body = b.post("/posts", bad)
	if st != 400 || !strings.Contains(body, fmt.Sprintf(`name="variant_media.simulator" value="%d" checked`, p2.ID)) || !strings.Contains(body, ">Für Mastodon</textarea>") {
		t.Fatalf("failed submit: %d\n%s", st, body)
	}
	form.Set("scheduled_local", time.Now().Add(48*time.Hour).Format("2006-01-02T15:04"))
	form.Set("zone", "Europe/Berlin")
	st, loc, _ := b.post("/posts", form)
	if st != http.StatusSeeOther {
		t.Fatalf("submit: %d", st)
	}
	var p publish.Post
	e.do(tok, "GET", "/api/v1"+loc, nil, &p)
	if len(p.Media) != 1 || p.Media[0] != p1.ID || fmt.Sprint(p.VariantMedia["simulator"]) != fmt.Sprint([]int64{p2.ID}) ||
		p.Variants["simulator"] != "" || p.Variants[fmt.Sprintf("channel:%d", masto)] != "Für Mastodon" {
		t.Fatalf("stored: media %v, variant media %v, variants %v", p.Media, p.VariantMedia, p.Variants)
	}
	if _, ok := p.Variants["simulator"]; ok {
		t.Fatalf("a media-only variant got a text: %v", p.Variants)
	}
	if st, body := b.get(loc); st != 200 || !strings.Contains(body, "Media for simulator") || !strings.Contains(body, p2.ThumbURL) {
		t.Fatalf("post page: %d\n%s", st, body)
	}
}

// The library's delete button: a flash saying why not while a
// scheduled post uses the file, done once it does not.
func TestUIDeleteMedia(t *testing.T) {
	e := newTestEnv(t)
	tok := e.user("ed@example.com", "bmw-de", access.RoleEditor)
	p1, _, _ := e.variantMedia(tok)
	sim := e.channelByHandle("simulator", "bmw_de")
	var post publish.Post
	if code := e.do(tok, "POST", "/api/v1/posts", map[string]any{"text": "x", "channels": []int64{sim}, "media": []int64{p1.ID},
		"scheduled_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, &post); code != 201 {
		t.Fatalf("post: %d", code)
	}
	b := e.browser()
	b.login("ed@example.com")
	st, body := b.get("/media")
	if st != 200 || !strings.Contains(body, fmt.Sprintf(`action="/media/%d/delete" class="js-confirm media-delete"`, p1.ID)) ||
		!strings.Contains(body, `data-confirm="Delete eins.png from the library?`) {
		t.Fatalf("library: %d\n%s", st, body)
	}
	if st, loc, _ := b.post(fmt.Sprintf("/media/%d/delete", p1.ID), nil); st != http.StatusSeeOther || loc != "/media" {
		t.Fatalf("delete in use: %d %q", st, loc)
	}
	if _, body = b.get("/media"); !strings.Contains(body, fmt.Sprintf("post %d (1 scheduled)", post.ID)) || !strings.Contains(body, `id="media-`+fmt.Sprint(p1.ID)) {
		t.Fatalf("after a refused delete:\n%s", body)
	}
	e.do(tok, "POST", fmt.Sprintf("/api/v1/posts/%d/cancel", post.ID), nil, nil)
	b.post(fmt.Sprintf("/media/%d/delete", p1.ID), nil)
	if _, body = b.get("/media"); !strings.Contains(body, "Deleted eins.png from the library.") || strings.Contains(body, `id="media-`+fmt.Sprint(p1.ID)+`"`) {
		t.Fatalf("after the delete:\n%s", body)
	}
}

// TestBrowserComposeVariantMedia picks media for one platform's variant
// in Chromium and sees the rule check and the previews follow, live.
func TestBrowserComposeVariantMedia(t *testing.T) {
	exe := os.Getenv("VERNETZEN_TEST_BROWSER")
	if exe == "" {
		t.Skip("set VERNETZEN_TEST_BROWSER to a Chromium binary to run the browser test")
	}
	e := newTestEnv(t)
	tok := e.user("ed@example.com", "bmw-de", access.RoleEditor)
	p1, p2, webm := e.variantMedia(tok)
	sim, masto := e.channelByHandle("simulator", "bmw_de"), e.channelByHandle("mastodon", "bmw_de@social.example")
	step, value, screenshot := startBrowser(t, exe)
	poll := func(js string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(10*time.Second))
	}
	card := func(variant string) string {
		return fmt.Sprintf(`document.querySelector('#problems article[data-variant=%q]')`, variant)
	}
	step("log in and compose",
		chromedp.Navigate(e.http.URL+"/posts/new"),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), "ed@example.com"),
		chromedp.SendKeys(chromedp.ID("login-password"), "password-ed@example.com"),
		chromedp.Submit(chromedp.ID("login-form")),
		chromedp.WaitVisible(chromedp.ID("compose")),
		poll(`window.htmx !== undefined`),
		chromedp.SendKeys(chromedp.CSS(`#compose textarea[name=text]`), "Neues Modell"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=channels][value="%d"]`, sim))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=channels][value="%d"]`, masto))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=media][value="%d"]`, p1.ID))),
		// Both platforms preview the post's image.
		poll(fmt.Sprintf(`document.querySelectorAll('#problems article li[data-media="%d"]').length === 2`, p1.ID)),
	)
	step("add a variant for the simulator and pick a video it does not take",
		chromedp.SetValue(chromedp.ID("variant-target"), "simulator"),
		chromedp.Click(chromedp.ID("variant-add")),
		chromedp.WaitVisible(chromedp.ID("variant-simulator")),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#variant-simulator input[value="%d"]`, webm.ID))),
		poll(`document.getElementById("vcheck-simulator").innerText.includes("video/webm")`),
		poll(card("simulator")+` !== null && `+card("simulator")+`.classList.contains("has-problems")`),
	)
	if text := value(chromedp.Text(chromedp.ID("vcheck-simulator"))); !strings.Contains(text, "is not accepted (accepted: video/mp4, video/quicktime)") {
		t.Fatalf("the variant's check says: %q", text)
	}
	screenshot("compose-variant-problem.png")
	step("pick an image instead",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#variant-simulator input[value="%d"]`, webm.ID))),
		poll(`!document.getElementById("vcheck-simulator").innerText.includes("video/webm")`),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#variant-simulator input[value="%d"]`, p2.ID))),
		poll(`document.getElementById("vcheck-simulator").innerText.includes("Fits Simulator")`),
		poll(card("simulator")+` !== null && !`+card("simulator")+`.classList.contains("has-problems") && `+
			card("simulator")+fmt.Sprintf(`.querySelector('li[data-media="%d"]') !== null`, p2.ID)),
	)
	// The simulator's preview has the variant's image only; Mastodon's
	// keeps the post's.
	if js := value(chromedp.Evaluate[string](fmt.Sprintf(`[...%s.querySelectorAll("li[data-media]")].map(l => l.dataset.media).join(",") + "|" + `+
		`[...document.querySelectorAll('#problems article:not([data-variant=simulator]) li[data-media]')].map(l => l.dataset.media).join(",")`, card("simulator")))); js != fmt.Sprintf("%d|%d", p2.ID, p1.ID) {
		t.Fatalf("previews' media: %s", js)
	}
	screenshot("compose-variant-ok.png")
	step("schedule",
		chromedp.Click(chromedp.CSS(`#compose button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.deliveries`)),
	)
	loc := value(chromedp.Evaluate[string](`location.pathname`))
	var p publish.Post
	e.do(tok, "GET", "/api/v1"+loc, nil, &p)
	if fmt.Sprint(p.Media) != fmt.Sprint([]int64{p1.ID}) || fmt.Sprint(p.VariantMedia["simulator"]) != fmt.Sprint([]int64{p2.ID}) {
		t.Fatalf("stored: %v %v", p.Media, p.VariantMedia)
	}
}
