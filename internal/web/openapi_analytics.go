package web

// analyticsOps documents the analytics API.
var analyticsOps = []apiOp{
	{"GET", "/api/v1/analytics/care", "Inbound volume, response times (median and p90, arrival to the conversation's first reply) and SLA breaches per queue and unit for the messages that arrived in the period; format=csv for a download", "", "Care", "", []string{"unit", "from", "to", "tz", "format"}},
	{"GET", "/api/v1/analytics/topics", "The channel mix per topic: for each campaign topic, which platforms carried its posts and engagement in the period (shares of the topic's engagement); format=csv for a download", "", "TopicMixList", "", []string{"unit", "from", "to", "tz", "format"}},
	{"GET", "/api/v1/analytics/campaigns/{id}", "A campaign's reach and engagement by platform and unit (its posts and the posts that took them up), the markets and dealers that took it up, the messages answering its posts by intent and the leads they made; format=csv for a download", "", "CampaignReport", "", []string{"format"}},
	{"GET", "/api/v1/analytics/funnel", "The lead funnel of a unit subtree per market and dealer (leads created in the period, how far they got, median time to first contact); format=csv for a download", "", "Funnel", "", []string{"unit", "from", "to", "tz", "format"}},
	{"GET", "/api/v1/analytics/overview", "A unit subtree's audience growth by platform, posts published, inbound messages by intent and leads, for a period (default the last 28 days, in the unit's time zone) and the one before; format=csv for a download", "", "Overview", "", []string{"unit", "from", "to", "tz", "format"}},
}

// analyticsSchemas are the analytics API's schemas.
var analyticsSchemas = map[string]any{
	"Period": obj(map[string]any{"from": map[string]any{"type": "string", "format": "date"}, "to": map[string]any{"type": "string", "format": "date"},
		"time_zone": str()}, "from", "to", "time_zone"),
	"Count": obj(map[string]any{"key": str(), "current": num(), "previous": num()}, "key", "current", "previous"),
	"PlatformAudience": obj(map[string]any{"platform": str(), "start": nullable(num()), "end": nullable(num()), "growth": nullable(num()),
		"previous_growth": nullable(num()), "series": arr(nullable(num()))}, "platform", "series"),
	"Engagement": obj(map[string]any{"platform": str(), "posts": num(), "likes": num(), "shares": num(), "replies": num(),
		"impressions": num(), "rate": str(), "per_post": str(), "previous_sum": num()}, "platform", "posts"),
	"TopPost": obj(map[string]any{"post": num(), "channel": str(), "platform": str(), "url": str(), "text": str(),
		"published_at": str(), "engagements": num()}, "post", "engagements"),
	"FunnelRow": obj(map[string]any{"unit": str(), "unit_name": str(), "kind": str(), "leads": num(), "new": num(), "contacted": num(),
		"qualified": num(), "won": num(), "lost": num(), "reached_contact": num(), "reached_qualified": num(),
		"median_time_to_first_contact": str()}, "unit", "leads"),
	"Funnel": obj(map[string]any{"unit": str(), "period": ref("Period"), "rows": arr(ref("FunnelRow")), "total": ref("FunnelRow")}, "unit", "period", "rows", "total"),
	"Reach": obj(map[string]any{"key": str(), "name": str(), "posts": num(), "likes": num(), "shares": num(), "replies": num(),
		"impressions": num()}, "key", "posts"),
	"TakeUp": obj(map[string]any{"unit": str(), "unit_name": str(), "post": num(), "published_at": nullable(str())}, "unit", "post"),
	"CampaignReport": obj(map[string]any{"campaign": num(), "name": str(), "unit": str(), "by_platform": arr(ref("Reach")),
		"by_unit": arr(ref("Reach")), "taken_up": arr(ref("TakeUp")), "inbound": arr(ref("Count")), "leads": arr(ref("Count"))},
		"campaign", "name", "by_platform", "by_unit", "taken_up"),
	"PlatformShare": obj(map[string]any{"platform": str(), "posts": num(), "engagements": num(), "impressions": num(),
		"engagement_share": map[string]any{"type": "number"}, "engagements_per_post": map[string]any{"type": "number"}}, "platform", "posts"),
	"TopicMix":     obj(map[string]any{"topic": str(), "posts": num(), "engagements": num(), "platforms": arr(ref("PlatformShare"))}, "topic", "platforms"),
	"TopicMixList": obj(map[string]any{"unit": str(), "period": ref("Period"), "topics": arr(ref("TopicMix"))}, "unit", "period", "topics"),
	"CareRow": obj(map[string]any{"key": str(), "name": str(), "messages": num(), "responded": num(), "median_response": str(),
		"p90_response": str(), "sla_breached": num()}, "key", "messages"),
	"Care": obj(map[string]any{"unit": str(), "period": ref("Period"), "by_queue": arr(ref("CareRow")), "by_unit": arr(ref("CareRow")),
		"total": ref("CareRow")}, "unit", "period", "by_queue", "by_unit", "total"),
	"Overview": obj(map[string]any{"engagement": arr(ref("Engagement")), "top_posts": arr(ref("TopPost")), "unit": str(), "unit_name": str(), "period": ref("Period"), "previous": ref("Period"),
		"days": arr(str()), "audience": arr(ref("PlatformAudience")), "posts": arr(ref("Count")), "inbound": arr(ref("Count")),
		"leads": arr(ref("Count"))}, "unit", "period", "previous", "days", "audience", "posts"),
}
