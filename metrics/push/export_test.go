package push

// OpenConns returns how many accepted connections s holds open.
func (s *Server) OpenConns() int {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	return s.open
}
