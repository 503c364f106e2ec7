package org

import "testing"

func TestRecognise(t *testing.T) {
	cases := []struct {
		platform, url, handle string
		wantHandle, wantURL   string
		wantErr               string
	}{
		{"twitter", "www.twitter.com/mini", "", "mini", "https://x.com/mini", ""},
		{"x", "https://X.com/@BMW/", "", "BMW", "https://x.com/BMW", ""},
		{"x", "https://mobile.twitter.com/bmwgroup?lang=de", "", "bmwgroup", "https://x.com/bmwgroup", ""},
		{"facebook", "http://facebook.com/BMW", "", "BMW", "https://www.facebook.com/BMW", ""},
		{"facebook", "https://m.facebook.com/pages/BMW.Welt/", "", "BMW.Welt", "https://www.facebook.com/BMW.Welt", ""},
		{"facebook", "https://www.facebook.com/profile.php?id=1234", "", "1234", "https://www.facebook.com/1234", ""},
		{"instagram", "", "@BMW", "BMW", "https://www.instagram.com/BMW", ""},
		{"youtube", "www.youtube.com/bmw", "", "bmw", "https://www.youtube.com/bmw", ""},
		{"youtube", "https://youtube.com/@BMW", "", "@BMW", "https://www.youtube.com/@BMW", ""},
		{"youtube", "https://www.youtube.com/channel/UCxxxxxxxxxxxxxxxxxxxxxx", "", "UCxxxxxxxxxxxxxxxxxxxxxx", "https://www.youtube.com/channel/UCxxxxxxxxxxxxxxxxxxxxxx", ""},
		{"linkedin", "https://www.linkedin.com/company/bmw-group/", "", "bmw-group", "https://www.linkedin.com/company/bmw-group", ""},
		{"mastodon", "https://Social.Example/@bmw", "", "bmw@social.example", "https://social.example/@bmw", ""},
		{"mastodon", "", "@bmw@social.example", "bmw@social.example", "https://social.example/@bmw", ""},
		{"bluesky", "https://bsky.app/profile/bmw.com", "", "bmw.com", "https://bsky.app/profile/bmw.com", ""},
		{"googleplus", "https://plus.google.com/s/bmw", "", "bmw", "https://plus.google.com/s/bmw", ""},
		{"foursquare", "", "BMW i", "BMW i", "", ""},
		{"website", "www.bmw.tv/com/", "", "", "https://www.bmw.tv/com", ""},
		{"community", "HTTP://M-Power.com", "", "", "https://m-power.com", ""},
		{"facebook", "twitter.com/bmw", "", "", "", "url: twitter.com/bmw is a X (Twitter) address"},
		{"facebook", "https://example.com/bmw", "", "", "", "url: https://example.com/bmw is not a Facebook address"},
		{"website", "not a url", "", "", "", "url:"},
		{"website", "ftp://files.example", "", "", "", "url:"},
		{"x", "https://x.com/mini", "bmw", "", "", "handle:"},
		{"facebook", "", "", "", "", "url: a channel needs a url or a handle"},
	}
	for _, tc := range cases {
		p, ok := PlatformByKey(tc.platform)
		if !ok {
			t.Fatalf("no platform %q", tc.platform)
		}
		acct, err := p.Recognise(tc.url, tc.handle)
		if tc.wantErr != "" {
			if err == nil || len(err.Error()) < len(tc.wantErr) || err.Error()[:len(tc.wantErr)] != tc.wantErr {
				t.Errorf("%s %q %q: err = %v, want %q", tc.platform, tc.url, tc.handle, err, tc.wantErr)
			}
			continue
		}
		if err != nil || acct.Handle != tc.wantHandle || acct.URL != tc.wantURL {
			t.Errorf("%s %q %q: %+v %v, want handle %q url %q", tc.platform, tc.url, tc.handle, acct, err, tc.wantHandle, tc.wantURL)
		}
	}
}

func TestValidators(t *testing.T) {
	for _, k := range []string{"bmw", "bmw-de", "a", "x1"} {
		if !ValidKey(k) {
			t.Errorf("%q should be a valid key", k)
		}
	}
	for _, k := range []string{"", "BMW", "-a", "a-", "a b", "ä", "a_b"} {
		if ValidKey(k) {
			t.Errorf("%q should not be a valid key", k)
		}
	}
	if c, err := NormaliseCountry(" de "); err != nil || c != "DE" {
		t.Errorf("country: %q %v", c, err)
	}
	if _, err := NormaliseCountry("UK"); err == nil {
		t.Error("UK is not an ISO 3166-1 code (GB is)")
	}
	if l, err := NormaliseLanguages([]string{"DE", "de-at", "de"}); err != nil || len(l) != 2 || l[1] != "de-AT" {
		t.Errorf("languages: %v %v", l, err)
	}
	if err := ValidateTimeZone("Europe/Berlin"); err != nil {
		t.Error(err)
	}
	if err := ValidateTimeZone("Local"); err == nil {
		t.Error("Local is not a time zone name")
	}
}
