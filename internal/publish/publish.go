// Package publish is campaigns, posts, per-platform variants, approvals
// along the unit tree, the calendar, deliveries (one per post and channel,
// published exactly once through the job queue) and syndication of
// central content to markets and dealers.
package publish

// Service is the publishing use cases.
type Service struct{}
