package web

// inboxOps documents the inbox and leads API.
var inboxOps = []apiOp{}

// inboxSchemas are the inbox and leads API's schemas.
var inboxSchemas = map[string]any{}
