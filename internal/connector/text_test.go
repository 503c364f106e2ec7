package connector

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCountGraphemes(t *testing.T) {
	for _, tc := range []struct {
		s string
		n int
	}{
		{"hello", 5},
		{"Grüße", 5},
		{"e\u0301", 1},            // e + combining acute
		{"🇩🇪🇫🇷", 2},               // two flags, four regional indicators
		{"👨‍👩‍👧‍👦", 1},            // family ZWJ sequence
		{"👍🏽!", 2},                // skin tone modifier
		{"❤️", 1},                 // variation selector
		{"a\r\nb", 3},             // CR LF is one
		{"한국어", 3},                // precomposed Hangul
		{"\u1100\u1161\u11A8", 1}, // conjoining jamo
		{strings.Repeat("ß", 300), 300},
	} {
		if got := CountGraphemes(tc.s); got != tc.n {
			t.Errorf("CountGraphemes(%q) = %d, want %d", tc.s, got, tc.n)
		}
	}
}

func TestCountMastodon(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", 200)
	if got := CountMastodon("see " + long + " now"); got != 4+23+4 {
		t.Errorf("url: %d", got)
	}
	if got := CountMastodon("hi @alice@example.social!"); got != len("hi @alice!") {
		t.Errorf("remote mention: %d", got)
	}
	if got := CountMastodon("mail bob@example.com"); got != len("mail bob@example.com") {
		t.Errorf("email is not a mention: %d", got)
	}
}

func TestCountX(t *testing.T) {
	if got := CountX("hello"); got != 5 {
		t.Errorf("latin: %d", got)
	}
	if got := CountX("日本語"); got != 6 {
		t.Errorf("cjk: %d", got)
	}
	if got := CountX("👨‍👩‍👧‍👦"); got != 2 {
		t.Errorf("emoji sequence: %d", got)
	}
	if got := CountX("a https://example.com/very/long/path/that/goes/on"); got != 2+23 {
		t.Errorf("url: %d", got)
	}
}

func TestFindURLs(t *testing.T) {
	s := "Neu: https://bmw.de/m3. (see https://en.wikipedia.org/wiki/BMW_(company)) und http://x.y/z?a=1, ok xhttps://no"
	got := FindURLs(s)
	want := []string{"https://bmw.de/m3", "https://en.wikipedia.org/wiki/BMW_(company)", "http://x.y/z?a=1"}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i, u := range got {
		if u.Text != want[i] || s[u.Start:u.End] != want[i] {
			t.Errorf("%d: %q", i, u.Text)
		}
	}
	if u := FindURLs("über https://ä.de/ö")[0]; u.Start != len("über ") {
		t.Errorf("byte offset %d", u.Start)
	}
}

func TestValidateMedia(t *testing.T) {
	rules := MediaRules{MaxImages: 4, MaxVideos: 1, ImageTypes: []string{"image/jpeg"}, MaxImageBytes: 100}
	ps := ValidateMedia(rules, []Media{
		{Kind: MediaImage, ContentType: "image/tiff", Size: 10},
		{Kind: MediaImage, ContentType: "image/jpeg", Size: 1000},
		{Kind: MediaVideo, ContentType: "video/mp4"},
	}, false)
	codes := map[string]bool{}
	for _, p := range ps {
		codes[p.Field+":"+p.Code] = true
	}
	for _, want := range []string{"media[0]:media_type", "media[1]:media_size", "media:media_mix"} {
		if !codes[want] {
			t.Errorf("missing %s in %+v", want, ps)
		}
	}
	if ps := ValidateText("", 10, CountChars, true); len(ps) != 1 || ps[0].Code != "required" {
		t.Errorf("required: %+v", ps)
	}
}

type readOnly struct{ caps Capabilities }

func (r readOnly) Platform() string             { return "ro" }
func (r readOnly) Capabilities() Capabilities   { return r.caps }
func (r readOnly) Validate(v Variant) []Problem { return nil }

type inbound struct{ readOnly }

func (inbound) Platform() string { return "in" }
func (inbound) FetchInbound(ctx context.Context, a *Account, cursor string) (Page, error) {
	return Page{Cursor: "c"}, nil
}

func TestRegistry(t *testing.T) {
	r := NewRegistry(inbound{readOnly{Capabilities{Inbound: []InboundKind{KindEntry}}}}, readOnly{})
	if c, ok := r.Get("in"); !ok || c.Platform() != "in" {
		t.Fatal("Get")
	}
	if all := r.All(); len(all) != 2 || all[0].Platform() != "in" || all[1].Platform() != "ro" {
		t.Fatalf("All: %v", all)
	}
	ro, _ := r.Get("ro")
	_, err := Publish(context.Background(), ro, &Account{}, PublishRequest{IdempotencyKey: "k"})
	if e := wantKind(t, err, KindPermanent); e.Code != "unsupported" {
		t.Fatalf("code %q", e.Code)
	}
	if err := CheckCapabilities(readOnly{Capabilities{Publish: true}}); err == nil {
		t.Fatal("declared Publish without Publisher must be refused")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate registration must panic")
		}
	}()
	r.Register(readOnly{})
}

func TestPKCE(t *testing.T) {
	p := NewPKCE()
	if len(p.Verifier) < 43 || p.Challenge == "" || p.Challenge == p.Verifier {
		t.Fatalf("%+v", p)
	}
}

func TestValidateMediaDurationAndType(t *testing.T) {
	rules := MediaRules{MaxVideos: 1, VideoTypes: []string{"video/mp4", "video/quicktime"},
		MinVideoDuration: 3 * time.Second, MaxVideoDuration: 15 * time.Minute}
	mov := func(d time.Duration) []Media {
		return []Media{{Kind: MediaVideo, ContentType: "video/quicktime", Size: 1 << 20, Duration: d}}
	}
	if ps := ValidateMedia(rules, mov(5*time.Second), true); len(ps) != 0 {
		t.Fatalf("a 5 s MOV: %+v", ps)
	}
	if ps := ValidateMedia(rules, mov(0), true); len(ps) != 0 {
		t.Fatalf("unknown length is the platform's call: %+v", ps)
	}
	if ps := ValidateMedia(rules, mov(2500*time.Millisecond), true); len(ps) != 1 || ps[0].Code != "media_duration" || ps[0].Field != "media[0]" ||
		!strings.Contains(ps[0].Message, "2.5 s") || !strings.Contains(ps[0].Message, "3 s") {
		t.Fatalf("too short: %+v", ps)
	}
	if ps := ValidateMedia(rules, mov(16*time.Minute+5*time.Second), true); len(ps) != 1 || !strings.Contains(ps[0].Message, "16 min 5 s") ||
		!strings.Contains(ps[0].Message, "15 min") {
		t.Fatalf("too long: %+v", ps)
	}
	webm := []Media{{Kind: MediaVideo, ContentType: "video/webm", Size: 10}}
	if ps := ValidateMedia(rules, webm, true); len(ps) != 1 || ps[0].Code != "media_type" {
		t.Fatalf("webm: %+v", ps)
	}
}
