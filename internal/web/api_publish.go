package web

// routesPublish registers the publishing API (posts, campaigns, approvals,
// offers, calendar).
func (s *Server) routesPublish() {
	if s.Publish == nil {
		return
	}
}
