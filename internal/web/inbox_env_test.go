package web

import (
	"github.com/vernetzen/vernetzen/internal/inbox"
	"github.com/vernetzen/vernetzen/internal/leads"
)

// testInboxServices builds the inbox and leads services of a test hub.
func testInboxServices(e *testEnv) (*inbox.Service, *leads.Service) { return nil, nil }
