package web

// publishOps documents the publishing API.
var publishOps = []apiOp{
	{"GET", "/api/v1/posts", "Posts the caller may read, newest first; unit includes its subtree", "", "PostList", "", []string{"unit", "status", "campaign", "limit"}},
	{"POST", "/api/v1/posts", "Write a post for channels or units: validated for every target, then scheduled (or held for approval) with one delivery per channel, all in one transaction", "PostInput", "Post", "201", nil},
	{"POST", "/api/v1/posts/validate", "Check a would-be post against each target platform's rules; stores nothing", "PostInput", "Validation", "", nil},
	{"GET", "/api/v1/posts/{id}", "A post with its deliveries, summary and approval trail", "", "Post", "", nil},
	{"PATCH", "/api/v1/posts/{id}", "Change a post before publishing starts; an edit by a non-approver sends it back for approval", "PostPatch", "Post", "", nil},
	{"POST", "/api/v1/posts/{id}/approve", "Approve a post that awaits approval, scheduling it", "Comment", "Post", "", nil},
	{"POST", "/api/v1/posts/{id}/reject", "Reject a post with a comment", "Comment", "Post", "", nil},
	{"POST", "/api/v1/posts/{id}/retry", "Schedule a post's failed deliveries again (the published ones stay)", "", "Post", "", nil},
	{"POST", "/api/v1/posts/{id}/offers", "Offer a post to units below its own (syndication); their markets and dealers may take it up", "OfferInput", "OfferList", "201", nil},
	{"GET", "/api/v1/offers", "Content offered to units where the caller may write posts, with who took it up", "", "OfferList", "", nil},
	{"POST", "/api/v1/offers/{id}/take", "Take up an offered post on the caller's channels: own text/variants (default: the original's), channels, time", "PostInput", "Post", "201", nil},
	{"GET", "/api/v1/calendar", "Posts of a unit's subtree scheduled in [from, to) (default: this month)", "", "Calendar", "", []string{"unit", "from", "to"}},
	{"GET", "/api/v1/units/{key}/approval-policy", "Whether posts in the unit by roles below manager need approval (own or inherited policy)", "", "ApprovalPolicy", "", nil},
	{"PUT", "/api/v1/units/{key}/approval-policy", "Set the unit's approval policy (managers)", "ApprovalPolicyInput", "ApprovalPolicy", "", nil},
	{"GET", "/api/v1/campaigns", "Campaigns the caller may read", "", "CampaignList", "", nil},
	{"POST", "/api/v1/campaigns", "Plan a campaign for a unit (managers)", "CampaignInput", "Campaign", "201", nil},
	{"GET", "/api/v1/campaigns/{id}", "A campaign with its posts and their delivery state", "", "Campaign", "", nil},
	{"PATCH", "/api/v1/campaigns/{id}", "Change a campaign", "CampaignInput", "Campaign", "", nil},
	{"DELETE", "/api/v1/campaigns/{id}", "Delete a campaign (its posts stay)", "", "", "204", nil},
	{"POST", "/api/v1/posts/{id}/cancel", "Cancel a post: its deliveries not yet started (held, scheduled) become cancelled; published ones stay", "Comment", "Post", "", nil},
	{"POST", "/api/v1/media", "Upload an image or video to a unit's media library: a multipart/form-data body with the fields unit and alt_text? before the part file (or unit and alt_text as query parameters); the type is sniffed from the content (JPEG, PNG, GIF, WebP; MP4, QuickTime/MOV, WebM, 3GP, AVI, MPEG), images ≤ 20 MB, videos ≤ 1 GB; the same file twice is stored once", "MediaUpload", "Media", "201", []string{"unit", "alt_text"}},
	{"GET", "/api/v1/media", "The media library entries the caller may read, newest first; unit includes its subtree", "", "MediaList", "", []string{"unit", "limit"}},
	{"GET", "/api/v1/media/{id}", "One media library entry (the bytes are at url, a thumbnail at thumb_url)", "", "Media", "", nil},
	{"DELETE", "/api/v1/media/{id}", "Delete a library entry: its row, and its file and thumbnail unless another unit's library has the same file. 409 naming the posts while a post not yet published everywhere uses it (held, scheduled, publishing, unknown or failed deliveries). Published posts keep their platform copies; their record no longer lists the file and their audit trail gets a \"media deleted\" step", "", "", "204", nil},
}

var postStatuses = []string{"pending_approval", "rejected", "scheduled", "cancelled", "publishing", "published", "partially_failed", "failed"}
var deliveryStatuses = []string{"held", "scheduled", "publishing", "published", "failed", "unknown", "cancelled"}

// requestMediaTypes names the request bodies that are not JSON, with the
// encoding of their parts.
var requestMediaTypes = map[string]struct {
	mediaType string
	encoding  map[string]any
}{
	"MediaUpload": {"multipart/form-data", map[string]any{"file": map[string]any{
		"contentType": "image/jpeg, image/png, image/gif, image/webp, video/mp4, video/quicktime, video/webm, video/3gpp, video/x-msvideo, video/mpeg, application/octet-stream"}}},
}

// publishSchemas are the publishing API's schemas.
var publishSchemas = map[string]any{
	"PostInput": obj(map[string]any{"text": str(),
		"variants": map[string]any{"type": "object", "description": "by platform key or channel id: the target's own text (absent: the post's) and/or media (absent or empty: the post's)",
			"additionalProperties": obj(map[string]any{"text": str(), "media": arr(num())})},
		"channels":     arr(num()),
		"units":        arr(str()),
		"scheduled_at": map[string]any{"type": "string", "format": "date-time", "description": "RFC 3339; absent = now"},
		"campaign":     num(),
		"media":        arr(num())}),
	"PostPatch": obj(map[string]any{"text": str(), "variants": map[string]any{"type": "object"},
		"scheduled_at": map[string]any{"type": "string", "format": "date-time"}, "campaign": num(), "media": arr(num())}),
	"Delivery": obj(map[string]any{"id": num(), "post": num(), "channel": num(), "channel_name": str(), "platform": str(), "handle": str(),
		"status": enum(deliveryStatuses...), "attempts": num(), "first_attempt_at": nullable(str()), "platform_post_id": str(), "url": str(),
		"published_at": nullable(str()), "error": str(), "error_kind": str()}, "channel", "status"),
	"Approval": obj(map[string]any{"id": num(), "who": str(), "action": str(), "comment": str(), "created_at": str()}, "action"),
	"Post": obj(map[string]any{"id": num(), "unit": str(), "unit_name": str(), "campaign": nullable(num()), "author": str(), "text": str(),
		"variants": map[string]any{"type": "object"}, "status": enum(postStatuses...), "scheduled_at": str(), "time_zone": str(),
		"created_at": str(), "updated_at": str(), "counts": map[string]any{"type": "object"}, "summary": str(),
		"deliveries": arr(ref("Delivery")), "approvals": arr(ref("Approval")), "origin": num(), "taken_up": arr(ref("TakeUp")),
		"media": arr(num()), "variant_media": map[string]any{"type": "object"}}, "id", "status"),
	"PostList": listOf("Post"),
	"TakeUp": obj(map[string]any{"post": num(), "unit": str(), "status": enum(postStatuses...), "summary": str(), "scheduled_at": str(),
		"published_at": nullable(str())}, "post", "unit", "status"),
	"Offer": obj(map[string]any{"id": num(), "post": num(), "unit": str(), "origin_unit": str(), "text": str(), "suggested_at": str(),
		"offered_by": str(), "note": str(), "created_at": str(), "taken_up": arr(ref("TakeUp"))}, "id", "post", "unit"),
	"OfferList":  listOf("Offer"),
	"OfferInput": obj(map[string]any{"units": arr(str()), "note": str()}, "units"),
	"Problem": obj(map[string]any{"channel": num(), "channel_name": str(), "platform": str(), "field": str(), "code": str(), "message": str()},
		"channel", "field", "message"),
	"Validation":          obj(map[string]any{"ok": boolean(), "problems": arr(ref("Problem"))}, "ok", "problems"),
	"Comment":             obj(map[string]any{"comment": str()}),
	"Calendar":            obj(map[string]any{"from": str(), "to": str(), "items": arr(ref("Post"))}, "items"),
	"ApprovalPolicy":      obj(map[string]any{"unit": str(), "required": boolean()}, "unit", "required"),
	"ApprovalPolicyInput": obj(map[string]any{"required": boolean()}, "required"),
	"Campaign": obj(map[string]any{"id": num(), "unit": str(), "name": str(), "topic": str(), "goal": str(), "tags": arr(str()),
		"starts_at": nullable(str()), "ends_at": nullable(str()), "created_at": str(), "updated_at": str(), "posts": arr(ref("Post"))}, "id", "unit", "name"),
	"CampaignList": listOf("Campaign"),
	"MediaUpload": obj(map[string]any{"unit": map[string]any{"type": "string", "description": "the key of the unit whose library gets the file"},
		"alt_text": map[string]any{"type": "string", "maxLength": 1500},
		"file":     map[string]any{"type": "string", "format": "binary", "description": "the file's bytes; send it as the last part, it is stored as it streams"}}, "unit", "file"),
	"Media": obj(map[string]any{"id": num(), "unit": str(), "sha256": str(), "kind": enum("image", "gif", "video"), "content_type": str(),
		"filename": str(), "size": num(), "width": num(), "height": num(), "duration_ms": num(), "alt_text": str(), "has_thumb": boolean(), "uploaded_by": str(),
		"created_at": str(), "url": str(), "thumb_url": str()}, "id", "unit", "kind", "content_type", "size", "url"),
	"MediaList": listOf("Media"),
	"CampaignInput": obj(map[string]any{"unit": str(), "name": str(), "topic": str(), "goal": str(), "tags": arr(str()),
		"starts_at": str(), "ends_at": str()}, "name"),
}
