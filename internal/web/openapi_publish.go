package web

// publishOps documents the publishing API.
var publishOps = []apiOp{}

// publishSchemas are the publishing API's schemas.
var publishSchemas = map[string]any{}
