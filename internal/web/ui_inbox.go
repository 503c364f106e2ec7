package web

// routesUIInbox registers the inbox and leads pages.
func (s *Server) routesUIInbox() {}
