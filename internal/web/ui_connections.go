package web

// routesUIConnections registers the pages that connect channels to their
// platforms (connection panel actions, OAuth callback, platform apps).
func (s *Server) routesUIConnections() {}
