// Package org is the organisation and its channel directory: a tree of
// units of any depth, the platforms the organisation speaks on, and the
// channels each unit runs there. It holds the types, the rules (what a valid
// unit or channel is, how platform URLs are recognised) and the Service that
// enforces the caller's unit scope on every read and write.
package org

import (
	"time"
)

// Kind is what a unit is in the organisation.
type Kind string

const (
	KindGroup     Kind = "group"
	KindBrand     Kind = "brand"
	KindSubBrand  Kind = "sub-brand"
	KindTopic     Kind = "topic"
	KindCommunity Kind = "community"
	KindMarket    Kind = "market"
	KindDealer    Kind = "dealer"
)

// Kinds lists every unit kind in the order the UI offers them.
var Kinds = []Kind{KindGroup, KindBrand, KindSubBrand, KindTopic, KindCommunity, KindMarket, KindDealer}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Unit is one node of the organisation tree. Path is the materialised path
// of ids from the root ("/1/4/9/"), so that a subtree is one prefix match and
// moving a subtree is one UPDATE.
type Unit struct {
	ID        int64     `json:"-"`
	Key       string    `json:"key"`
	Name      string    `json:"name"`
	Kind      Kind      `json:"kind"`
	ParentID  int64     `json:"-"`
	Parent    string    `json:"parent,omitempty"` // the parent's key
	Path      string    `json:"-"`
	Depth     int       `json:"depth"`
	Country   string    `json:"country,omitempty"`
	Languages []string  `json:"languages,omitempty"`
	TimeZone  string    `json:"time_zone,omitempty"`
	Channels  int       `json:"channels"` // channels on this unit itself
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Status is a channel's life-cycle state.
type Status string

const (
	StatusActive  Status = "active"
	StatusPaused  Status = "paused"
	StatusRetired Status = "retired"
)

// Valid reports whether s is a known channel status.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusPaused || s == StatusRetired
}

// Channel is one account of a unit on one platform.
type Channel struct {
	ID         int64     `json:"id"`
	UnitID     int64     `json:"-"`
	Unit       string    `json:"unit"` // the unit's key
	UnitName   string    `json:"unit_name"`
	UnitPath   string    `json:"-"`
	Platform   string    `json:"platform"`
	Handle     string    `json:"handle"`
	URL        string    `json:"url"`       // canonical, normalised
	GivenURL   string    `json:"given_url"` // as the user or the import gave it
	Name       string    `json:"name"`
	Status     Status    `json:"status"`
	Notes      string    `json:"notes"`
	Followers  *int64    `json:"followers"` // latest audience point, if any
	AccountKey string    `json:"-"`         // what makes the account unique on its platform
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// AudiencePoint is a channel's follower count on one day (YYYY-MM-DD, UTC).
type AudiencePoint struct {
	Day       string `json:"day"`
	Followers int64  `json:"followers"`
}

// ChannelFilter narrows a channel list. Zero fields do not filter.
type ChannelFilter struct {
	Unit     string // unit key: the unit and its whole subtree
	Platform string
	Status   Status
	Text     string // matched against name, handle, URL, notes
	Limit    int
	Offset   int
}
