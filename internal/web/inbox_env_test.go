package web

import (
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/leads"
)

// testInboxServices builds the inbox and leads services of a test hub and
// puts the connectors' inbound items through the inbox's pipeline.
func testInboxServices(e *testEnv) (*inbox.Service, *leads.Service) {
	in := inbox.NewService(inbox.Config{Store: e.store})
	e.conn.Ingest = in
	return in, leads.NewService(leads.Config{Store: e.store, Export: e.store, Box: e.conn.Box})
}
