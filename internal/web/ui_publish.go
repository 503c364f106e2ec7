package web

// routesUIPublish registers the publishing pages (composer, calendar,
// campaigns).
func (s *Server) routesUIPublish() {}
