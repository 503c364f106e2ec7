package web

// inboxTeamOps documents the inbox's teams API.
var inboxTeamOps = []apiOp{
	{"GET", "/api/v1/inbox/teams", "The teams of a unit (unit: its key), or of every unit whose inbox the caller reads, with their members", "", "TeamList", "", []string{"unit"}},
	{"POST", "/api/v1/inbox/teams", "Add a team to a unit (managers); its name is unique within the unit regardless of case (409 naming name); members are user ids of people who may answer the unit's inbox (400 naming members[i])", "TeamInput", "Team", "201", nil},
	{"GET", "/api/v1/inbox/teams/{id}", "One team with its members", "", "Team", "", nil},
	{"PATCH", "/api/v1/inbox/teams/{id}", "Rename a team (managers)", "TeamRename", "Team", "", nil},
	{"DELETE", "/api/v1/inbox/teams/{id}", "Remove a team (managers): refused with 409 while open or pending conversations are assigned to it (assign them elsewhere or close them first); closed conversations lose the team", "", "", "204", nil},
	{"PUT", "/api/v1/inbox/teams/{id}/members", "Replace a team's members (managers): user ids of people who may answer the team's unit's inbox", "TeamMembers", "Team", "", nil},
	{"GET", "/api/v1/messages/{id}/teams", "The teams a message's conversation may be assigned to (assigned_team): those of its unit and the units above it", "", "TeamList", "", nil},
}

// inboxTeamSchemas are the inbox teams API's schemas.
var inboxTeamSchemas = map[string]any{
	"TeamInput":   obj(map[string]any{"unit": str(), "name": str(), "members": arr(num())}, "unit", "name"),
	"TeamRename":  obj(map[string]any{"name": str()}, "name"),
	"TeamMembers": obj(map[string]any{"members": arr(num())}, "members"),
	"Team": obj(map[string]any{"id": num(), "unit": str(), "name": str(), "members": arr(ref("Assignee")), "created_at": str()},
		"id", "unit", "name", "members"),
	"TeamList": obj(map[string]any{"items": arr(ref("Team"))}, "items"),
}
