package web

import (
	"net/http"
	"strings"
	"sync"
)

// The OpenAPI 3 document of the API, built from a table so that the text
// stays short; TestOpenAPICoversEveryRoute keeps it true to the routes.

type apiOp struct {
	method, path, summary string
	request               string // schema name of the JSON body, "" for none
	response              string // schema name of the 2xx answer ("" = 204)
	status                string // 2xx status, default 200
	query                 []string
}

// apiOps is every documented operation: the directory's here, each other
// area's in a file of its own (openapi_publish.go, openapi_inbox.go).
func apiOps() []apiOp {
	var all []apiOp
	for _, ops := range [][]apiOp{directoryOps, publishOps, inboxOps, inboxSettingsOps, inboxTeamOps, analyticsOps} {
		all = append(all, ops...)
	}
	return all
}

// apiSchemas merges every area's schemas.
func apiSchemas() map[string]any {
	all := map[string]any{}
	for _, m := range []map[string]any{schemas, publishSchemas, inboxSchemas, inboxSettingsSchemas, inboxTeamSchemas, analyticsSchemas} {
		for k, v := range m {
			all[k] = v
		}
	}
	return all
}

var directoryOps = []apiOp{
	{"GET", "/api/v1/me", "The caller and its grants", "", "Me", "", nil},
	{"GET", "/api/v1/platforms", "Platforms and their status", "", "PlatformList", "", nil},
	{"GET", "/api/v1/units", "The unit tree the caller may read, depth first", "", "UnitList", "", nil},
	{"POST", "/api/v1/units", "Create a unit under a parent the caller manages", "UnitInput", "Unit", "201", nil},
	{"GET", "/api/v1/units/{key}", "One unit", "", "Unit", "", nil},
	{"PATCH", "/api/v1/units/{key}", "Change a unit's fields", "UnitPatch", "Unit", "", nil},
	{"POST", "/api/v1/units/{key}/move", "Move a unit and its subtree under another parent", "Move", "Unit", "", nil},
	{"DELETE", "/api/v1/units/{key}", "Delete a unit without children or channels", "", "", "204", nil},
	{"GET", "/api/v1/channels", "Channels, filtered; unit includes its subtree", "", "ChannelList", "", []string{"unit", "platform", "status", "q", "limit", "offset"}},
	{"POST", "/api/v1/channels", "Register a channel", "ChannelInput", "Channel", "201", nil},
	{"GET", "/api/v1/channels/{id}", "One channel", "", "Channel", "", nil},
	{"PATCH", "/api/v1/channels/{id}", "Change a channel", "ChannelPatch", "Channel", "", nil},
	{"POST", "/api/v1/channels/{id}/retire", "Retire a channel", "", "Channel", "", nil},
	{"DELETE", "/api/v1/channels/{id}", "Delete a channel and its history", "", "", "204", nil},
	{"GET", "/api/v1/channels/{id}/audience", "A channel's follower history", "", "AudienceList", "", nil},
	{"POST", "/api/v1/channels/{id}/audience", "Record follower counts", "AudienceInput", "AudienceList", "", nil},
	{"GET", "/api/v1/export/organisation.yaml", "The organisation map (units and channels) as YAML, importable with `vernetzen import`", "", "YAML", "", nil},
	{"GET", "/api/v1/export/channels.csv", "Channels as CSV (same filters as the list)", "", "CSV", "", []string{"unit", "platform", "status", "q"}},
	{"GET", "/api/v1/channels/{id}/connection", "The channel's connection to its platform (never a secret)", "", "ConnectionStatus", "", nil},
	{"PUT", "/api/v1/channels/{id}/credentials", "Connect a channel by token: Mastodon {instance_url, access_token}; Bluesky {service_url?, identifier, app_password}; simulator {base_url?, identifier?}; RSS {feed_url}", "Credentials", "ConnectionStatus", "", nil},
	{"DELETE", "/api/v1/channels/{id}/credentials", "Disconnect a channel and forget its credentials", "", "", "204", nil},
	{"GET", "/api/v1/platforms/{key}/app", "The hub's app registration with a platform (which secrets are set, not their values)", "", "AppStatus", "", nil},
	{"PUT", "/api/v1/platforms/{key}/app", "Set the hub's app registration with a platform (group admins)", "AppInput", "AppStatus", "", nil},
	{"GET", "/api/v1/notices", "The caller's unread notices (e.g. channels that need reconnecting)", "", "NoticeList", "", nil},
	{"GET", "/api/v1/users", "Users the caller administers (admins)", "", "UserList", "", nil},
	{"POST", "/api/v1/users", "Add a user; without a password one is generated and returned once", "UserInput", "UserCreated", "201", nil},
	{"GET", "/api/v1/users/{id}", "One user with grants", "", "User", "", nil},
	{"PATCH", "/api/v1/users/{id}", "Change a user's name, password or disabled flag", "UserPatch", "User", "", nil},
	{"DELETE", "/api/v1/users/{id}", "Delete a user", "", "", "204", nil},
	{"GET", "/api/v1/grants", "Grants on units the caller administers", "", "GrantList", "", nil},
	{"POST", "/api/v1/grants", "Grant a role on a unit (and its subtree)", "GrantInput", "Grant", "201", nil},
	{"DELETE", "/api/v1/grants/{id}", "Revoke a grant", "", "", "204", nil},
	{"GET", "/api/v1/tokens", "The caller's API tokens (never their secrets)", "", "TokenList", "", nil},
	{"POST", "/api/v1/tokens", "Create an API token; the secret is shown once", "TokenInput", "TokenCreated", "201", nil},
	{"DELETE", "/api/v1/tokens/{id}", "Revoke a token", "", "", "204", nil},
}

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func str() map[string]any             { return map[string]any{"type": "string"} }
func num() map[string]any             { return map[string]any{"type": "integer"} }
func boolean() map[string]any         { return map[string]any{"type": "boolean"} }
func enum(v ...string) map[string]any { return map[string]any{"type": "string", "enum": v} }
func ref(name string) map[string]any  { return map[string]any{"$ref": "#/components/schemas/" + name} }
func arr(item map[string]any) map[string]any {
	return map[string]any{"type": "array", "items": item}
}
func listOf(name string) map[string]any {
	return obj(map[string]any{"items": arr(ref(name)), "total": num()}, "items")
}
func nullable(s map[string]any) map[string]any {
	return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
}

var kinds = []string{"group", "brand", "sub-brand", "topic", "community", "market", "dealer"}
var statuses = []string{"active", "paused", "retired"}
var roles = []string{"admin", "manager", "editor", "agent", "sales", "viewer"}

var schemas = map[string]any{
	"Error": obj(map[string]any{"error": obj(map[string]any{
		"code":    enum("invalid", "unauthorized", "forbidden", "not_found", "conflict", "too_large", "rate_limited", "unavailable", "internal"),
		"message": str(), "field": str()}, "code", "message")}, "error"),
	"Unit": obj(map[string]any{"key": str(), "name": str(), "kind": enum(kinds...), "parent": str(), "depth": num(),
		"country": str(), "languages": arr(str()), "time_zone": str(), "channels": num(), "created_at": str(), "updated_at": str()},
		"key", "name", "kind", "depth"),
	"UnitList": listOf("Unit"),
	"UnitInput": obj(map[string]any{"key": str(), "name": str(), "kind": enum(kinds...), "parent": str(),
		"country": str(), "languages": arr(str()), "time_zone": str()}, "key", "name", "kind", "parent"),
	"UnitPatch": obj(map[string]any{"name": str(), "kind": enum(kinds...), "country": str(), "languages": arr(str()), "time_zone": str()}),
	"Move":      obj(map[string]any{"parent": str()}, "parent"),
	"Channel": obj(map[string]any{"id": num(), "unit": str(), "unit_name": str(), "platform": str(), "handle": str(),
		"url": str(), "given_url": str(), "name": str(), "status": enum(statuses...), "notes": str(), "followers": nullable(num()),
		"created_at": str(), "updated_at": str()}, "id", "unit", "platform", "handle", "url", "name", "status"),
	"ChannelList": listOf("Channel"),
	"ChannelInput": obj(map[string]any{"unit": str(), "platform": str(), "url": str(), "handle": str(), "name": str(),
		"status": enum(statuses...), "notes": str()}, "unit", "platform"),
	"ChannelPatch": obj(map[string]any{"unit": str(), "platform": str(), "url": str(), "handle": str(), "name": str(),
		"status": enum(statuses...), "notes": str()}),
	"AudiencePoint": obj(map[string]any{"day": map[string]any{"type": "string", "format": "date"}, "followers": num()}, "day", "followers"),
	"AudienceList":  listOf("AudiencePoint"),
	"AudienceInput": obj(map[string]any{"points": arr(ref("AudiencePoint"))}, "points"),
	"Platform":      obj(map[string]any{"key": str(), "name": str(), "status": enum("active", "retired")}, "key", "name", "status"),
	"PlatformList":  listOf("Platform"),
	"Grant": obj(map[string]any{"id": num(), "user_id": num(), "user": str(), "unit": str(), "role": enum(roles...), "created_at": str()},
		"id", "user_id", "unit", "role"),
	"GrantList":  listOf("Grant"),
	"GrantInput": obj(map[string]any{"user": str(), "unit": str(), "role": enum(roles...)}, "user", "unit", "role"),
	"User": obj(map[string]any{"id": num(), "email": str(), "name": str(), "disabled": boolean(), "created_at": str(),
		"grants": arr(ref("Grant"))}, "id", "email"),
	"UserList":    listOf("User"),
	"UserInput":   obj(map[string]any{"email": str(), "name": str(), "password": str()}, "email"),
	"UserPatch":   obj(map[string]any{"name": str(), "password": str(), "disabled": boolean()}),
	"UserCreated": obj(map[string]any{"user": ref("User"), "password": str()}, "user"),
	"Me":          obj(map[string]any{"user": ref("User"), "grants": arr(ref("Grant"))}, "user", "grants"),
	"Token": obj(map[string]any{"id": num(), "user_id": num(), "name": str(), "prefix": str(), "created_at": str(),
		"last_used_at": nullable(str()), "expires_at": nullable(str())}, "id", "name", "prefix"),
	"TokenList": listOf("Token"),
	"ConnectionStatus": obj(map[string]any{"connected": boolean(), "channel": num(), "platform": str(), "base_url": str(),
		"external_id": str(), "account_handle": str(), "state": enum("connected", "reconnect_needed", "error"), "last_error": str(),
		"poll_failures": num(), "last_polled_at": nullable(str()), "connected_at": str(), "updated_at": str(),
		"methods": arr(enum("token", "oauth", "feed")), "capabilities": map[string]any{"type": "object"}}, "connected", "methods"),
	"Credentials": obj(map[string]any{"instance_url": str(), "service_url": str(), "base_url": str(), "feed_url": str(),
		"identifier": str(), "app_password": str(), "access_token": str(), "refresh_token": str(), "external_id": str()}),
	"AppInput": obj(map[string]any{"client_id": str(), "client_secret": str(), "webhook_secret": str(), "verify_token": str()}),
	"AppStatus": obj(map[string]any{"platform": str(), "client_id": str(), "has_client_secret": boolean(), "has_webhook_secret": boolean(),
		"has_verify_token": boolean(), "callback_url": str(), "webhook_url": str()}, "platform"),
	"Notice":       obj(map[string]any{"id": num(), "channel": num(), "text": str(), "created_at": str()}, "id", "text"),
	"NoticeList":   listOf("Notice"),
	"TokenInput":   obj(map[string]any{"name": str(), "user": str(), "expires_at": str()}),
	"TokenCreated": obj(map[string]any{"token": ref("Token"), "secret": str()}, "token", "secret"),
}

var errorResponses = map[string]string{
	"400": "Bad input; error.field names the field", "401": "No or bad token", "403": "Not allowed in this unit",
	"404": "Not found, or outside the caller's scope", "409": "Conflicts with existing data", "413": "Body too large",
	"503": "A platform or the secret key is unavailable",
}

var (
	openAPIOnce sync.Once
	openAPIDoc  map[string]any
)

func buildOpenAPI() map[string]any {
	paths := map[string]any{}
	for _, op := range apiOps() {
		item, _ := paths[op.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.path] = item
		}
		var params []any
		for _, seg := range strings.Split(op.path, "/") {
			if strings.HasPrefix(seg, "{") {
				name := strings.Trim(seg, "{}")
				schema := str()
				if name == "id" {
					schema = num()
				}
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": schema})
			}
		}
		for _, q := range op.query {
			schema := str()
			if q == "limit" || q == "offset" {
				schema = num()
			}
			params = append(params, map[string]any{"name": q, "in": "query", "schema": schema})
		}
		status := op.status
		if status == "" {
			status = "200"
		}
		responses := map[string]any{}
		switch op.response {
		case "":
			responses[status] = map[string]any{"description": "Done"}
		case "YAML":
			responses[status] = map[string]any{"description": "OK", "content": map[string]any{"application/yaml": map[string]any{"schema": str()}}}
		case "CSV":
			responses[status] = map[string]any{"description": "OK", "content": map[string]any{"text/csv": map[string]any{"schema": str()}}}
		case "JSONL":
			responses[status] = map[string]any{"description": "OK", "content": map[string]any{"application/x-ndjson": map[string]any{"schema": str()}}}
		default:
			responses[status] = map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": ref(op.response)}}}
		}
		for code, desc := range errorResponses {
			if code == "413" && op.request == "" {
				continue
			}
			responses[code] = map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		}
		o := map[string]any{"summary": op.summary, "responses": responses,
			"operationId": strings.ToLower(op.method) + strings.NewReplacer("/api/v1", "", "/", "_", "{", "", "}", "", ".", "_").Replace(op.path)}
		if len(params) > 0 {
			o["parameters"] = params
		}
		if op.request != "" {
			mt := map[string]any{"schema": ref(op.request)}
			name := "application/json"
			if alt, ok := requestMediaTypes[op.request]; ok {
				name = alt.mediaType
				if alt.encoding != nil {
					mt["encoding"] = alt.encoding
				}
			}
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{name: mt}}
		}
		item[strings.ToLower(op.method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "vernetzen API", "version": "1",
			"description": "The organisation, its channel directory and access. Authenticate with `Authorization: Bearer <token>` (make one with `vernetzen token create`). Objects outside the caller's unit scope answer 404."},
		"servers":    []any{map[string]any{"url": "/"}},
		"security":   []any{map[string]any{"bearer": []any{}}},
		"paths":      paths,
		"components": map[string]any{"schemas": apiSchemas(), "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	openAPIOnce.Do(func() { openAPIDoc = buildOpenAPI() })
	writeJSON(w, http.StatusOK, openAPIDoc)
}
