package web

import (
	"strconv"

	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/connector"
)

// uiMix is one row of an audience table: who a platform's (or all)
// channels reach, ready to print. Nil Age or Gender prints "not reported".
type uiMix struct {
	Topic     string
	Platform  string // "" for all platforms
	Channels  int
	Reported  int
	Followers int64
	Viewers   bool // some figures describe viewers (YouTube), not followers
	Young     string
	Age       []uiShare
	Gender    []uiShare
}

// uiShare is a bucket's share as text and as a bar width in percent.
type uiShare struct {
	Key, Text, Width string
}

// uiAgeGroups and uiGenders head the audience tables.
var (
	uiAgeGroups = connector.AgeGroups
	uiGenders   = []string{"Female", "Male", "Other"}
)

func uiMixOf(topic string, m analytics.AudienceMix) uiMix {
	r := uiMix{Topic: topic, Platform: m.Platform, Channels: m.Channels, Reported: m.Reported, Followers: m.Followers}
	for _, b := range m.Bases {
		r.Viewers = r.Viewers || b == "viewers"
	}
	cells := func(sh []analytics.Share) []uiShare {
		if sh == nil {
			return nil
		}
		out := make([]uiShare, len(sh))
		for i, s := range sh {
			w := strconv.FormatFloat(100*s.Share, 'f', 1, 64)
			out[i] = uiShare{Key: s.Key, Text: w + " %", Width: w}
		}
		return out
	}
	r.Age, r.Gender = cells(m.Age), cells(m.Gender)
	if y := m.Young(); y != nil {
		r.Young = strconv.FormatFloat(100**y, 'f', 1, 64) + " %"
	}
	return r
}

// uiAudienceTable is an audience table: its rows and its columns.
type uiAudienceTable struct {
	Rows          []uiMix
	Ages, Genders []string
	Topic         bool // rows name their topic
}

// uiDemographicRows is the overview's audience table: all channels, then
// each platform.
func uiDemographicRows(d analytics.AudienceDemographics) *uiAudienceTable {
	t := &uiAudienceTable{Rows: []uiMix{uiMixOf("", d.All)}, Ages: uiAgeGroups, Genders: uiGenders}
	for _, m := range d.Platforms {
		t.Rows = append(t.Rows, uiMixOf("", m))
	}
	return t
}

// uiTopicAudienceRows is the channel mix's audience table, one row per
// topic and platform (nil without topics).
func uiTopicAudienceRows(topics []analytics.TopicMix) *uiAudienceTable {
	if len(topics) == 0 {
		return nil
	}
	t := &uiAudienceTable{Ages: uiAgeGroups, Genders: uiGenders, Topic: true}
	var rows []uiMix
	for _, tm := range topics {
		for _, p := range tm.Platforms {
			m := analytics.AudienceMix{Platform: p.Platform}
			if p.Audience != nil {
				m = *p.Audience
			}
			rows = append(rows, uiMixOf(tm.Topic, m))
		}
	}
	t.Rows = rows
	return t
}
