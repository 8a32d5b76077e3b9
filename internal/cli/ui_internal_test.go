package cli

import "testing"

// TestLoopback is the rule for which --listen hosts tune ui serves without
// a token: only names and addresses of this machine's loopback.
func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.3.2.1": true, "::1": true, "localhost": true,
		"": false, "0.0.0.0": false, "::": false, "192.168.1.20": false, "10.0.0.1": false,
		"example.com": false, "localhost.example.com": false, "::ffff:127.0.0.1": true,
	} {
		if got := loopback(host); got != want {
			t.Errorf("loopback(%q) = %v, want %v", host, got, want)
		}
	}
}
