package inbox

import (
	"testing"
	"time"
)

func TestAddBusiness(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	weekdays := &BusinessHours{Days: 0b0111110, Start: 9 * 60, End: 18 * 60}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		from string
		d    time.Duration
		want string
	}{
		{"2026-11-23 10:00", time.Hour, "2026-11-23 11:00"},      // Monday, within hours
		{"2026-11-23 17:30", time.Hour, "2026-11-24 09:30"},      // runs over the close
		{"2026-11-23 07:00", time.Hour, "2026-11-23 10:00"},      // before opening
		{"2026-11-27 17:00", 4 * time.Hour, "2026-11-30 12:00"},  // Friday → Monday
		{"2026-11-28 12:00", time.Hour, "2026-11-30 10:00"},      // Saturday
		{"2026-11-23 10:00", 10 * time.Hour, "2026-11-24 11:00"}, // more than a day's hours
		{"2026-03-27 17:00", 2 * time.Hour, "2026-03-30 10:00"},  // over the DST change
	}
	for _, c := range cases {
		got := addBusiness(at(c.from), c.d, weekdays, berlin)
		if want := at(c.want); !got.Equal(want) {
			t.Errorf("%s + %s = %s, want %s", c.from, c.d, got.In(berlin), want)
		}
	}
	if got := addBusiness(at("2026-11-28 12:00"), time.Hour, nil, berlin); !got.Equal(at("2026-11-28 13:00")) {
		t.Errorf("around the clock: %s", got)
	}
}

func TestPolicyInherits(t *testing.T) {
	d := buildDirectory([]UnitRef{
		{ID: 1, Key: "group", Path: "/1/", TimeZone: "Europe/Berlin"},
		{ID: 2, Key: "bmw-de", Path: "/1/2/"},
		{ID: 3, Key: "dealer", Path: "/1/2/3/"},
	}, nil)
	d.slas = map[int64]SLASettings{
		1: {UnitID: 1, Targets: map[string]int{"sales": 30}},
		2: {UnitID: 2, Targets: map[string]int{"": 120}, Hours: &BusinessHours{Days: 0b0111110, Start: 540, End: 1080}},
	}
	if p := d.policy(3, "sales"); p.target != 2*time.Hour || p.hours == nil || p.loc.String() != "Europe/Berlin" {
		t.Errorf("dealer sales: %+v", p)
	}
	if p := d.policy(1, "sales"); p.target != 30*time.Minute || p.hours != nil {
		t.Errorf("group sales: %+v", p)
	}
	if p := d.policy(1, "support"); p.target != 4*time.Hour {
		t.Errorf("group support (default): %+v", p)
	}
}
