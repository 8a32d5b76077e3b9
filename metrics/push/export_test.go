package push

// OpenConns returns how many accepted connections s holds open.
func (s *Server) OpenConns() int { return s.ln.open() }
