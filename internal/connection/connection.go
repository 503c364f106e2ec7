// Package connection links channels to their platform accounts: it keeps
// each channel's credentials sealed at rest, connects channels by token or
// app password and through OAuth, polls each connected channel for inbound
// items on the durable job queue, receives verified webhooks, and tells a
// channel's owners when it needs reconnecting. Connectors do the talking
// to platforms; this package decides when, and stores what comes back.
package connection

import (
	"context"
	"database/sql"
	"time"

	"github.com/vernetzen/vernetzen/internal/analytics"
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/org"
)

// State is a connection's health.
type State string

const (
	StateConnected       State = "connected"
	StateReconnectNeeded State = "reconnect_needed" // the platform refused the credentials; a person must act
	StateError           State = "error"            // the platform refuses the requests for another reason
)

// Connection is a channel's link to its platform account. Sealed holds the
// credentials encrypted; it never leaves this package in the clear.
type Connection struct {
	ChannelID    int64      `json:"channel"`
	Platform     string     `json:"platform"`
	BaseURL      string     `json:"base_url,omitempty"`
	ExternalID   string     `json:"external_id,omitempty"`
	Handle       string     `json:"account_handle,omitempty"`
	Sealed       string     `json:"-"`
	State        State      `json:"state"`
	LastError    string     `json:"last_error,omitempty"`
	Cursor       string     `json:"-"`
	PollFailures int        `json:"poll_failures"`
	LastPolledAt *time.Time `json:"last_polled_at"`
	ConnectedAt  time.Time  `json:"connected_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// AppRecord is the hub's registration with a platform or one instance.
type AppRecord struct {
	Platform string
	Instance string
	ClientID string
	Sealed   string // JSON of the app's secrets, sealed
}

// OAuthState is a connect flow under way.
type OAuthState struct {
	ChannelID int64
	UserID    int64
	Instance  string
	Verifier  string // sealed PKCE verifier
	ExpiresAt time.Time
}

// Store is what connections need from the database.
type Store interface {
	ConnectionByChannel(ctx context.Context, channelID int64) (Connection, bool, error)
	SaveConnection(ctx context.Context, c *Connection) error
	UpdateConnectionCredentials(ctx context.Context, channelID int64, sealed string) error
	SetConnectionState(ctx context.Context, channelID int64, state State, lastError string, failures int) error
	SaveInboundCursor(ctx context.Context, channelID int64, cursor string, polledAt time.Time) error
	DeleteConnection(ctx context.Context, channelID int64) error
	Connections(ctx context.Context) ([]Connection, error)
	ConnectionsByAccount(ctx context.Context, platform, externalID string) ([]Connection, error)
	PlatformApp(ctx context.Context, platform, instance string) (AppRecord, bool, error)
	SavePlatformApp(ctx context.Context, a AppRecord) error
	PlatformApps(ctx context.Context) ([]AppRecord, error)
	CreateOAuthState(ctx context.Context, hash string, st OAuthState) error
	TakeOAuthState(ctx context.Context, hash string) (OAuthState, bool, error)
	InsertMessages(ctx context.Context, msgs []inbox.Message) (int, error)
	UnitOwners(ctx context.Context, unitPath string) ([]int64, error)
	AddNotice(ctx context.Context, userID, channelID int64, text string) error
	UnreadNotices(ctx context.Context, userID int64) ([]Notice, error)
	MarkNoticesRead(ctx context.Context, userID int64) error
	CountMessages(ctx context.Context, channelID int64) (int, error)
	AddAudience(ctx context.Context, channelID int64, points []org.AudiencePoint) error
	SaveDemographics(ctx context.Context, channelID int64, r analytics.DemographicReading, at time.Time) error
	// Tx is the transaction the store runs in, inside inTx (for the
	// job queue's transactional insert).
	Tx() *sql.Tx
}

// Notice is something a user should know, such as a channel that needs
// reconnecting.
type Notice struct {
	ID        int64     `json:"id"`
	ChannelID int64     `json:"channel"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}
