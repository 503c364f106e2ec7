package inbox

// Service is the inbox's use cases: ingest, conversations, routing, SLAs
// and replies.
type Service struct{}
