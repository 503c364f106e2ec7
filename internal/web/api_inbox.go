package web

// routesInbox registers the inbox and leads API (messages, conversations,
// leads).
func (s *Server) routesInbox() {
	if s.Inbox == nil {
		return
	}
}
