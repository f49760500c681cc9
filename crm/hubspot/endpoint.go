package hubspot

import "time"

// DefaultTimeout bounds every call to HubSpot. A caller's own deadline still
// applies: the card's, for one, must fit in the 15 s HubSpot gives a
// hubspot.fetch call.
const DefaultTimeout = 10 * time.Second

// HubSpot's hosts: the browser meets the app host (authorization), the
// server the API host (tokens, CRM).
const (
	AppBaseURL = "https://app.hubspot.com"
	APIBaseURL = "https://api.hubapi.com"
)
