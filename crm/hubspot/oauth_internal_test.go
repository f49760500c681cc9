package hubspot

import (
	"errors"
	"testing"
)

// The emulator serves one app, so the check that an introspected token is
// ours is tested on the decoded metadata directly.
func TestCheckTokenInfo(t *testing.T) {
	tests := []struct {
		name     string
		active   bool
		tokenUse string
		info     TokenInfo
		want     error
		ok       bool
	}{
		{"ours", true, "access_token", TokenInfo{HubID: 62515, ClientID: "ours"}, nil, true},
		{"no client id stated", true, "", TokenInfo{HubID: 62515}, nil, true},
		{"inactive", false, "", TokenInfo{}, ErrTokenInactive, false},
		{"another app's", true, "access_token", TokenInfo{HubID: 62515, ClientID: "theirs"}, ErrWrongApp, false},
		{"a refresh token", true, "refresh_token", TokenInfo{HubID: 62515, ClientID: "ours"}, nil, false},
		{"no portal", true, "access_token", TokenInfo{ClientID: "ours"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTokenInfo(tt.active, tt.tokenUse, &tt.info, "ours")
			if tt.ok != (err == nil) {
				t.Fatalf("checkTokenInfo = %v, want ok=%v", err, tt.ok)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("checkTokenInfo = %v, want %v", err, tt.want)
			}
		})
	}
}
