package web

// inboxOps documents the inbox and leads API.
var inboxOps = []apiOp{
	{"POST", "/api/v1/messages", "Ingest a batch of inbound messages (at most 5,000; all or nothing): deduplicated on (channel, external_id), classified, routed and stored before the 202", "MessageBatch", "IngestResult", "202", nil},
	{"GET", "/api/v1/messages", "Inbound messages in the caller's units, newest first; unit includes its subtree, q is full-text search; count_limit caps the count (total ≤ count_limit) for speed over millions", "", "MessageList", "", []string{"unit", "channel", "intent", "lang", "status", "assigned_to", "q", "limit", "offset", "count_limit"}},
	{"GET", "/api/v1/messages/{id}", "One message", "", "Message", "", nil},
	{"PATCH", "/api/v1/messages/{id}", "Set the status or assignee of a message's conversation", "MessagePatch", "Message", "", nil},
	{"GET", "/api/v1/messages/{id}/conversation", "A message's conversation: its messages, oldest first, and internal notes", "", "Conversation", "", nil},
	{"POST", "/api/v1/messages/{id}/notes", "Add an internal note to a message's conversation", "NoteInput", "Note", "201", nil},
	{"GET", "/api/v1/leads", "Leads in the caller's units, best score first", "", "LeadList", "", []string{"unit", "state", "limit", "offset"}},
	{"GET", "/api/v1/leads/{id}", "One lead", "", "Lead", "", nil},
	{"PATCH", "/api/v1/leads/{id}", "Move a lead through the funnel (new → contacted → qualified → won/lost); won and lost need an outcome", "LeadPatch", "Lead", "", nil},
	{"GET", "/api/v1/export/leads.csv", "Leads as CSV (same filters as the list)", "", "CSV", "", []string{"unit", "state"}},
	{"PUT", "/api/v1/settings/crm", "Set the CRM webhook (global, or for a unit and its subtree): every lead change is POSTed as JSON with an Idempotency-Key and an X-Vernetzen-Signature (t=<unix>,v1=<hex HMAC-SHA256 of \"<unix>.<body>\">), retried until answered 2xx; an empty url removes it", "CRMInput", "CRMSettings", "", nil},
}

var intents = []string{"purchase", "support", "complaint", "question", "praise", "spam", "other"}
var messageKinds = []string{"comment", "mention", "reply", "dm"}
var leadStates = []string{"new", "contacted", "qualified", "won", "lost"}

// inboxSchemas are the inbox and leads API's schemas.
var inboxSchemas = map[string]any{
	"MessageInput": obj(map[string]any{"channel": num(), "external_id": str(), "kind": enum(messageKinds...),
		"author": obj(map[string]any{"external_id": str(), "name": str(), "handle": str()}), "text": str(),
		"created_at": map[string]any{"type": "string", "format": "date-time"}, "in_reply_to": str(), "url": str()},
		"channel", "external_id", "kind", "author", "created_at"),
	"MessageBatch": obj(map[string]any{"messages": arr(ref("MessageInput"))}, "messages"),
	"IngestResult": obj(map[string]any{"accepted": num(), "duplicates": num()}, "accepted", "duplicates"),
	"Message": obj(map[string]any{"id": num(), "channel": num(), "external_id": str(), "kind": str(), "author_external_id": str(),
		"author_name": str(), "author_handle": str(), "text": str(), "url": str(), "in_reply_to": str(), "thread_id": str(),
		"created_at": str(), "received_at": str(), "intent": enum(intents...), "lang": str(), "models": arr(str()),
		"score": map[string]any{"type": "number"}, "unit": str(), "queue": str(), "status": enum("open", "pending", "closed"),
		"conversation": str(), "assigned_to": num(), "lead": num()}, "id", "channel", "external_id", "intent", "lang", "models"),
	"MessageList":  listOf("Message"),
	"MessagePatch": obj(map[string]any{"status": enum("open", "pending", "closed"), "assigned_to": num()}),
	"Note":         obj(map[string]any{"id": num(), "message": num(), "user_id": num(), "author": str(), "text": str(), "created_at": str()}, "id", "text"),
	"NoteInput":    obj(map[string]any{"text": str()}, "text"),
	"Conversation": obj(map[string]any{"key": str(), "channel": num(), "status": str(), "assigned_to": num(),
		"messages": arr(ref("Message")), "notes": arr(ref("Note"))}, "key", "messages", "notes"),
	"Lead": obj(map[string]any{"id": num(), "unit": str(), "unit_name": str(), "person": str(), "platform": str(),
		"author_name": str(), "author_handle": str(), "channel": num(), "state": enum(leadStates...), "outcome": str(),
		"score": map[string]any{"type": "number"}, "confidence": map[string]any{"type": "number"}, "interest": num(),
		"models": arr(str()), "last_message": num(), "last_text": str(), "last_seen_at": str(), "created_at": str(), "updated_at": str()},
		"id", "unit", "state", "score"),
	"LeadList":    listOf("Lead"),
	"CRMInput":    obj(map[string]any{"unit": str(), "url": str(), "secret": str()}, "url"),
	"CRMSettings": obj(map[string]any{"unit": str(), "url": str(), "has_secret": boolean()}, "url", "has_secret"),
	"LeadPatch":   obj(map[string]any{"state": enum(leadStates...), "outcome": str()}, "state"),
}
