// Package inbox is where every inbound comment, mention, reply and direct
// message lands. This file holds the stored message; ingest from the
// connectors (polling and webhooks) writes it.
package inbox

import "time"

// Message is one inbound item of one channel, unique by (channel, platform
// id) however often the platform delivers it.
type Message struct {
	ID               int64     `json:"id"`
	ChannelID        int64     `json:"channel"`
	ExternalID       string    `json:"external_id"`
	Kind             string    `json:"kind"` // comment, mention, reply, dm, entry
	AuthorExternalID string    `json:"author_external_id"`
	AuthorName       string    `json:"author_name"`
	AuthorHandle     string    `json:"author_handle"`
	Text             string    `json:"text"`
	URL              string    `json:"url,omitempty"`
	InReplyTo        string    `json:"in_reply_to,omitempty"`
	ThreadID         string    `json:"thread_id,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	ReceivedAt       time.Time `json:"received_at"`
}
