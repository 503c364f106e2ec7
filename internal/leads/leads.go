// Package leads turns purchase intent into leads: scoring, routing to the
// market or dealer that should follow up, states, and CRM export.
package leads

import (
	"math"
	"strings"
	"time"

	"github.com/vernetzen/vernetzen/internal/inbox"
)

// Lead is a prospect: one person (platform and author id) showing purchase
// intent towards one unit (a market or dealer, or the channel's unit).
type Lead struct {
	ID            int64     `json:"id"`
	UnitID        int64     `json:"-"`
	Unit          string    `json:"unit"`
	UnitName      string    `json:"unit_name"`
	Person        string    `json:"person"`
	Platform      string    `json:"platform"`
	AuthorName    string    `json:"author_name"`
	AuthorHandle  string    `json:"author_handle"`
	ChannelID     int64     `json:"channel"`
	State         State     `json:"state"`
	Outcome       string    `json:"outcome"`
	Score         float64   `json:"score"` // 0–100
	Confidence    float64   `json:"confidence"`
	Interest      int       `json:"interest"` // purchase-intent messages seen
	Models        []string  `json:"models"`
	LastMessageID int64     `json:"last_message"`
	LastText      string    `json:"last_text"`
	LastSeenAt    time.Time `json:"last_seen_at"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// State is where a lead is in the sales funnel.
type State string

const (
	StateNew       State = "new"
	StateContacted State = "contacted"
	StateQualified State = "qualified"
	StateWon       State = "won"
	StateLost      State = "lost"
)

// States lists the states in funnel order.
var States = []State{StateNew, StateContacted, StateQualified, StateWon, StateLost}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, v := range States {
		if v == s {
			return true
		}
	}
	return false
}

// Closed reports whether the lead's outcome is decided.
func (s State) Closed() bool { return s == StateWon || s == StateLost }

// PersonKey names the person behind a message across the channels of one
// platform: the author's platform id, or their handle where there is none.
func PersonKey(platform string, m inbox.Message) string {
	id := m.AuthorExternalID
	if id == "" {
		id = "@" + strings.ToLower(strings.TrimPrefix(m.AuthorHandle, "@"))
		if id == "@" {
			id = "msg:" + m.ExternalID
		}
	}
	return platform + ":" + id
}

// MaxModels bounds the models of interest a lead keeps.
const MaxModels = 10

// Merge folds a purchase-intent message into a lead (a zero Lead for a
// new one) and rescores it.
func Merge(l Lead, m inbox.Message, person string, now time.Time) Lead {
	if l.ID == 0 && l.CreatedAt.IsZero() {
		l.CreatedAt = now
		l.State = StateNew
		l.UnitID = m.UnitID
		l.Person = person
		l.Platform = m.Platform
		l.ChannelID = m.ChannelID
	}
	if m.AuthorName != "" {
		l.AuthorName = m.AuthorName
	}
	if m.AuthorHandle != "" {
		l.AuthorHandle = m.AuthorHandle
	}
	l.Interest++
	if m.Score > l.Confidence {
		l.Confidence = m.Score
	}
	for _, md := range m.Models {
		if len(l.Models) >= MaxModels {
			break
		}
		if !contains(l.Models, md) {
			l.Models = append(l.Models, md)
		}
	}
	seen := m.CreatedAt
	if seen.IsZero() || seen.After(now) {
		seen = now
	}
	if seen.After(l.LastSeenAt) {
		l.LastSeenAt = seen
		l.LastMessageID = m.ID
		l.LastText = m.Text
	}
	// A lost lead that asks again is a new chance.
	if l.State == StateLost {
		l.State = StateNew
		l.Outcome = ""
	}
	l.UpdatedAt = now
	l.Score = Score(l, now)
	return l
}

// Score rates a lead between 0 and 100: the classifier's confidence (45),
// repeated interest (20, full at four messages), a model named (15) and
// recency (20, halving every two weeks since the last message).
func Score(l Lead, now time.Time) float64 {
	s := 45 * clamp(l.Confidence)
	s += 20 * clamp(float64(l.Interest-1)/3)
	if len(l.Models) > 0 {
		s += 15
	}
	age := now.Sub(l.LastSeenAt).Hours() / 24
	if age < 0 {
		age = 0
	}
	s += 20 * math.Exp2(-age/14)
	return math.Round(s*10) / 10
}

func clamp(v float64) float64 {
	return math.Max(0, math.Min(1, v))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
