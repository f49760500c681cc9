package hubspot

// CardPath is where the app card's hubspot.fetch calls us (contracts.md §2):
// crm.CardPath of HubSpot, the route of every crm.CardFetcher's card.
const CardPath = "/api/crm/hubspot/card"

// Query parameters of a card request, named as HubSpot names them.
//
// HubSpot appends userId, portalId, userEmail and appId to every
// hubspot.fetch call, so they name who is calling, under the signature. The
// record (associatedObjectId, associatedObjectType) is put in the URL by the
// app card's own code, which runs in the user's browser: it is signed too,
// but a user could choose another record of their own portal. A parameter
// given twice means someone added one of HubSpot's names before HubSpot
// appended it: such a request must be refused, never resolved by picking one.
const (
	QueryAssociatedObjectID   = "associatedObjectId"
	QueryAssociatedObjectType = "associatedObjectType"
	QueryUserID               = "userId"
	QueryPortalID             = "portalId"
	QueryUserEmail            = "userEmail"
	QueryAppID                = "appId"
)
