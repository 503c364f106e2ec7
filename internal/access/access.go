// Package access answers "may this caller…": users, their role grants on
// units, API tokens and web sessions. A grant on a unit covers the unit and
// its whole subtree; a caller's scope is the union of its grants.
package access

import (
	"strings"
	"time"
)

// Role is what a user may do within a granted unit's subtree.
type Role string

const (
	RoleAdmin   Role = "admin"   // everything, including users and grants
	RoleManager Role = "manager" // units, channels, campaigns, approvals
	RoleEditor  Role = "editor"  // writes posts
	RoleAgent   Role = "agent"   // answers the inbox
	RoleSales   Role = "sales"   // works leads
	RoleViewer  Role = "viewer"  // reads
)

// Roles lists the roles from most to least powerful.
var Roles = []Role{RoleAdmin, RoleManager, RoleEditor, RoleAgent, RoleSales, RoleViewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if v == r {
			return true
		}
	}
	return false
}

// Permission is one thing a caller may be allowed to do on a unit.
type Permission int

const (
	ReadDirectory   Permission = iota // see units and channels
	ManageDirectory                   // create, change, move and delete units and channels
	ManageAccess                      // create users, grant roles, see other users' tokens
	WritePosts                        // write, schedule and retry posts
	ApprovePosts                      // approve or reject posts; posts by these roles need no approval
	ManageCampaigns                   // create, change and delete campaigns and approval policies
	ReadInbox                         // see inbound messages and conversations
	AnswerInbox                       // assign, close, note and answer conversations
	IngestMessages                    // push inbound messages through the batch API
	ReadLeads                         // see leads
	WorkLeads                         // change a lead's state and outcome
)

// allows says which roles carry which permission. Agent and sales are not
// ranked against editor: they are different jobs, so the table is explicit.
var allows = map[Permission][]Role{
	ReadDirectory:   {RoleAdmin, RoleManager, RoleEditor, RoleAgent, RoleSales, RoleViewer},
	ManageDirectory: {RoleAdmin, RoleManager},
	ManageAccess:    {RoleAdmin},
	WritePosts:      {RoleAdmin, RoleManager, RoleEditor},
	ApprovePosts:    {RoleAdmin, RoleManager},
	ManageCampaigns: {RoleAdmin, RoleManager},
	ReadInbox:       {RoleAdmin, RoleManager, RoleAgent, RoleSales},
	AnswerInbox:     {RoleAdmin, RoleManager, RoleAgent},
	IngestMessages:  {RoleAdmin, RoleManager},
	ReadLeads:       {RoleAdmin, RoleManager, RoleSales},
	WorkLeads:       {RoleAdmin, RoleManager, RoleSales},
}

// Has reports whether role r carries permission p.
func (r Role) Has(p Permission) bool {
	for _, v := range allows[p] {
		if v == r {
			return true
		}
	}
	return false
}

// User is a person who logs in or acts through API tokens.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	Grants    []Grant   `json:"grants,omitempty"`
}

// Grant gives a user a role on a unit and its subtree.
type Grant struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	UserEmail string    `json:"user,omitempty"`
	UnitID    int64     `json:"-"`
	Unit      string    `json:"unit"` // the unit's key
	UnitPath  string    `json:"-"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// Token is an API token's public record; its secret is shown once, at
// creation, and stored only as a hash.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // the first characters, to tell tokens apart
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
}

// Principal is an authenticated caller: a user and the grants it acts with.
type Principal struct {
	User   User
	Grants []Grant
	// System is the command line acting on the operator's behalf (import,
	// demo, user add): it may do everything, like the database's owner.
	System bool
}

// SystemPrincipal is the caller the command line acts as.
func SystemPrincipal() *Principal {
	return &Principal{User: User{Email: "system"}, System: true}
}

// Can reports whether the caller holds permission p on the unit with the
// given materialised path (a grant on an ancestor covers it).
func (p *Principal) Can(perm Permission, unitPath string) bool {
	if p == nil {
		return false
	}
	if p.System {
		return true
	}
	for _, g := range p.Grants {
		if strings.HasPrefix(unitPath, g.UnitPath) && g.Role.Has(perm) {
			return true
		}
	}
	return false
}

// CanAnywhere reports whether the caller holds permission p on any unit.
func (p *Principal) CanAnywhere(perm Permission) bool {
	if p == nil {
		return false
	}
	if p.System {
		return true
	}
	for _, g := range p.Grants {
		if g.Role.Has(perm) {
			return true
		}
	}
	return false
}

// Scope returns the unit paths under which the caller holds permission p,
// without paths already covered by another (so a query ORs few prefixes).
// The system principal's scope is nil, which store queries read as "all";
// anyone else without a grant gets an empty, non-nil scope: nothing.
func (p *Principal) Scope(perm Permission) []string {
	if p != nil && p.System {
		return nil
	}
	paths := []string{}
	if p == nil {
		return paths
	}
	for _, g := range p.Grants {
		if g.Role.Has(perm) {
			paths = append(paths, g.UnitPath)
		}
	}
	return MinimalPrefixes(paths)
}

// MinimalPrefixes drops every path that another path in the list covers.
func MinimalPrefixes(paths []string) []string {
	out := []string{}
	for i, a := range paths {
		covered := false
		for j, b := range paths {
			if i != j && strings.HasPrefix(a, b) && (a != b || j < i) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, a)
		}
	}
	return out
}
