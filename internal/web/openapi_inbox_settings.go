package web

// inboxSettingsOps documents the inbox's settings API.
var inboxSettingsOps = []apiOp{
	{"GET", "/api/v1/inbox/saved-replies/{id}", "One saved reply", "", "SavedReply", "", nil},
	{"PUT", "/api/v1/inbox/saved-replies/{id}", "Replace a saved reply's unit, name and text", "SavedReplyInput", "SavedReply", "", nil},
	{"POST", "/api/v1/inbox/saved-replies/preview", "Fill a saved reply's variables for an example message of a unit (an example author, the unit's first channel) without saving it", "SavedReplyPreviewInput", "SavedReplyPreview", "", nil},
	{"GET", "/api/v1/inbox/routing-rules", "The routing rules of the caller's units, in the order routing tries them (deepest unit first, then position)", "", "RoutingRuleList", "", nil},
	{"POST", "/api/v1/inbox/routing-rules", "Add a routing rule to a unit (managers): a message of the unit's subtree matching every set condition (channel, lang, intent, any keyword as whole words) waits in the queue; the first matching rule of the nearest unit wins, without one the intent decides", "RoutingRuleInput", "RoutingRule", "201", nil},
	{"GET", "/api/v1/inbox/routing-rules/{id}", "One routing rule", "", "RoutingRule", "", nil},
	{"PUT", "/api/v1/inbox/routing-rules/{id}", "Replace a routing rule", "RoutingRuleInput", "RoutingRule", "", nil},
	{"DELETE", "/api/v1/inbox/routing-rules/{id}", "Remove a routing rule", "", "", "204", nil},
	{"GET", "/api/v1/messages/{id}/assignees", "Who a message's conversation may be assigned to (assigned_to): the active users who may answer its unit's inbox", "", "AssigneeList", "", nil},
	{"GET", "/api/v1/catalogue", "The vehicle model catalogues of the brand units the caller sees (built-in ones are marked seeded until edited)", "", "CatalogueList", "", nil},
	{"GET", "/api/v1/catalogue/{unit}", "One brand unit's vehicle model catalogue", "", "Catalogue", "", nil},
	{"POST", "/api/v1/catalogue/{unit}/models", "Add a model to a brand's catalogue (managers); version is the catalogue version the edit starts from (409 when it changed)", "ModelInput", "Catalogue", "201", nil},
	{"PUT", "/api/v1/catalogue/{unit}/models/{name}", "Replace (or rename) a model of a brand's catalogue", "ModelInput", "Catalogue", "", nil},
	{"DELETE", "/api/v1/catalogue/{unit}/models/{name}", "Remove a model from a brand's catalogue", "", "Catalogue", "", []string{"version"}},
}

// inboxSettingsSchemas are the inbox settings API's schemas.
var inboxSettingsSchemas = map[string]any{
	"SavedReplyPreviewInput": obj(map[string]any{"unit": str(), "text": str()}, "unit", "text"),
	"SavedReplyPreview":      obj(map[string]any{"rendered": str()}, "rendered"),
	"RoutingRuleInput": obj(map[string]any{"unit": str(), "position": num(), "channel": num(), "lang": str(), "intent": enum(intents...),
		"keywords": arr(str()), "queue": str()}, "unit", "queue"),
	"RoutingRule": obj(map[string]any{"id": num(), "unit": str(), "position": num(), "channel": num(), "lang": str(), "intent": str(),
		"keywords": arr(str()), "queue": str(), "created_at": str()}, "id", "unit", "queue"),
	"RoutingRuleList": obj(map[string]any{"items": arr(ref("RoutingRule"))}, "items"),
	"VehicleModel": obj(map[string]any{"name": str(), "aliases": arr(str()), "ambiguous": boolean(), "needsBrand": boolean(),
		"notBefore": arr(str())}, "name"),
	"Catalogue": obj(map[string]any{"unit": str(), "unit_name": str(), "version": num(), "seeded": boolean(),
		"brand": obj(map[string]any{"name": str(), "prefixes": arr(str()), "keepPrefix": boolean(), "models": arr(ref("VehicleModel")),
			"variants": arr(str()), "chassis": arr(str()), "engineCodes": boolean()}, "name", "models")}, "unit", "version", "brand"),
	"Assignee":      obj(map[string]any{"id": num(), "email": str(), "name": str()}, "id", "email"),
	"AssigneeList":  obj(map[string]any{"items": arr(ref("Assignee"))}, "items"),
	"CatalogueList": obj(map[string]any{"items": arr(ref("Catalogue"))}, "items"),
	"ModelInput": obj(map[string]any{"name": str(), "aliases": arr(str()), "ambiguous": boolean(), "needs_brand": boolean(),
		"version": num()}, "name", "version"),
}
