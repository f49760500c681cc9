package qwoty

import "net/http"

// catalogue is every code's entry, in the order of error.go. After editing
// it, run `make generate`: docs/troubleshooting.md, the Salesforce
// component's cardMessages.js and the HubSpot card's card-model.ts take their
// tables from here, and `make test` fails until they do.
var catalogue = []Entry{
	{
		Code:    CodeBadRequest,
		Status:  http.StatusBadRequest,
		Who:     Rep | Developer,
		Title:   "Qwoty rejected the request as malformed",
		Message: "Something in the request is missing or malformed.",
		Hint:    "Fix what the message names; Qwoty's requests are described in docs/callout-contract.md.",
		Cause: "A callout header or body field is missing or malformed; the message names it (`the X-Qwoty-Nonce header is missing`, `recordId is required`, " +
			"`record.currencyIsoCode \"usd\" is not a three-letter ISO 4217 code`, …). Also a body that could not be read, and a card or console form " +
			"that does not parse (\"the form could not be read: invalid URL escape …\"). HubSpot's and Pipedrive's are listed under [HubSpot and Pipedrive](#hubspot-and-pipedrive).",
		OtherHints: "Salesforce callout: \"Check the callout against docs/callout-contract.md; the Qwoty package sends it this way.\" Unreadable body: " +
			"\"Send the whole body in one request.\" Form: \"Send the form URL-encoded, as a browser does.\"",
		Fix: "Package callouts: upgrade the package to the version matching the server. Hand-made requests: fix what the message names, per " +
			"[the contract](callout-contract.md#headers).",
		OnCards: map[Card]CardText{
			CardSalesforce: {Fix: "This usually means the Qwoty package is older than the Qwoty server. Upgrade the package from the install links in Qwoty " +
				"(Settings → Integrations → Salesforce → Reconnect, step 1). If it persists, send the request id to Qwoty support."},
			CardHubSpot: {Fix: "Reload the page. If it repeats, the HubSpot app and the Qwoty server may be of different versions: " +
				"ask your Qwoty operator to upload the app again."},
		},
	},
	{
		Code:    CodePayloadTooLarge,
		Status:  http.StatusRequestEntityTooLarge,
		Who:     Rep | Developer,
		Title:   "The request is too large for Qwoty",
		Message: "The request is larger than the 64 KiB Qwoty accepts.",
		Hint:    "Requests are capped at 64 KiB: send less data.",
		Cause:   "The callout body is over 65,536 bytes; or a card action's or console form's body is (\"the form is larger than 65536 bytes\").",
		OtherHints: "Callout: \"The callout body is capped at 64 KiB; send less record data.\" Form: " +
			"\"Forms are capped at 64 KiB: send less text (a description holds 1000 characters).\"",
		Fix: "Shorten unusually long record values (name, account name). A form that large was not sent by the card or the console: fix the script that sent it.",
		OnCards: map[Card]CardText{
			CardSalesforce: {
				Title: "The opportunity data sent to Qwoty is too large",
				Fix:   "Shorten unusually long values on this opportunity (name, account name), then retry. If it persists, send the request id to Qwoty support.",
			},
		},
	},
	{
		Code:    CodeSignatureMissing,
		Status:  http.StatusUnauthorized,
		Who:     Rep | Developer,
		Title:   "The request reached Qwoty without its signature",
		Message: "Qwoty received the request without the signature the CRM adds to it.",
		Hint:    "Send the request through the CRM's Qwoty app, which signs it, and make sure no proxy strips the signature.",
		Cause:   "No `X-Qwoty-Signature` header on a Salesforce callout (HubSpot: no `X-HubSpot-Signature-v3`; Pipedrive: no token).",
		OtherHints: "Salesforce: \"The request did not come through the Qwoty package's Apex controller, or a proxy stripped the header.\" " +
			"HubSpot and Pipedrive: [their own](#hubspot-and-pipedrive).",
		Fix: "Call through the package (named credential `Qwoty_API`); make sure no proxy or WAF in front of Qwoty drops `X-Qwoty-*` headers.",
		OnCards: map[Card]CardText{
			CardSalesforce: {Fix: "Something between Salesforce and Qwoty removed the X-Qwoty-Signature header. In Setup → Named Credentials, " +
				"check that Qwoty_API is the one installed by the package and has no custom headers."},
			CardHubSpot: {
				Title:   "HubSpot's signature is missing",
				Message: "Qwoty received the request without the signature HubSpot adds to it.",
				Fix: "Make sure nothing between HubSpot and Qwoty (a proxy or firewall) removes the X-HubSpot-Signature-v3 and " +
					"X-HubSpot-Request-Timestamp headers, then try again.",
			},
		},
	},
	{
		Code:    CodeSignatureInvalid,
		Status:  http.StatusUnauthorized,
		Who:     Rep | Developer,
		Title:   "Qwoty could not verify the request's signature",
		Message: "The request's signature does not match the secret Qwoty holds for this CRM account.",
		Hint:    "The CRM and the Qwoty server must share the current secret: see docs/troubleshooting.md, signature_invalid.",
		Cause: "The MAC matches neither the connection's current secret nor its previous one (while a rotation window is open). " +
			"HubSpot and Pipedrive: [their secrets](#hubspot-and-pipedrive).",
		OtherHints: "Salesforce: \"The secret in the org's Qwoty settings does not match ours: reconnect the org so the current secret is written " +
			"into it (docs/troubleshooting.md, signature_invalid).\"",
		Fix: "Reconnect the org: connecting writes the server's current secret into the org. See " +
			"[the symptom below](#signature_invalid-right-after-reconnecting) if it persists.",
		OnCards: map[Card]CardText{
			CardSalesforce: {
				Title: "Qwoty could not verify the signature of this org",
				Fix: "The secret stored in this org no longer matches the one in Qwoty (for example after a sandbox refresh or a reconnection " +
					"from another workspace). An admin reconnects the org in Qwoty (Settings → Integrations → Salesforce → Reconnect → " +
					"Connect my Salesforce org), which writes a fresh secret.",
			},
			CardHubSpot: {
				Title:   "HubSpot's signature does not match",
				Message: "Qwoty could not verify that this request comes from the Qwoty HubSpot app.",
				Fix: "The Qwoty server's HUBSPOT_CLIENT_SECRET must be the client secret of this HubSpot app (the app's Auth page in HubSpot). " +
					"Ask your Qwoty operator to check it and that no proxy rewrites the request URL.",
			},
		},
	},
	{
		Code:    CodeTimestampOutOfRange,
		Status:  http.StatusUnauthorized,
		Who:     Rep | Developer,
		Title:   "The request's time is too far from Qwoty's clock",
		Message: "The request was signed more than 5 minutes away from the Qwoty server's clock, so Qwoty refused it.",
		Hint:    "Try again. If it keeps happening, ask your Qwoty operator to synchronise the server's clock (NTP).",
		Cause:   "`X-Qwoty-Timestamp` is more than 300 s away from the server's clock; the message gives the gap.",
		OtherHints: "Salesforce: \"Check the clock of the machine that signed the request (Salesforce's is right; a replayed or hand-made " +
			"request is not).\" HubSpot and Pipedrive: [their own](#hubspot-and-pipedrive).",
		Fix: "Synchronise the server's clock (NTP). For a request made with `qwoty sign`, sign it again.",
		OnCards: map[Card]CardText{
			CardSalesforce: {},
			CardHubSpot:    {Title: "Clocks don't agree"},
		},
	},
	{
		Code:    CodeReplayedRequest,
		Status:  http.StatusConflict,
		Who:     Rep | Developer,
		Title:   "Qwoty received the same signed request twice",
		Message: "Qwoty had already accepted this exact request, and each signed request is accepted once.",
		Hint:    "Try again: each attempt is signed anew. If it keeps happening, something between the CRM and Qwoty is resending requests.",
		Cause:   "The nonce was already accepted for this org in the last 11 minutes. HubSpot and Pipedrive requests are never refused so.",
		OtherHints: "Salesforce: \"Each callout needs a fresh nonce; the Qwoty package makes one per request. A proxy retrying the request " +
			"can cause this.\"",
		Fix: "Retry (the card's Retry button sends a new nonce). If it repeats, find the proxy or load balancer that resends POST requests.",
		OnCards: map[Card]CardText{
			CardSalesforce: {},
			CardHubSpot:    {},
		},
	},
	{
		Code:    CodeOrgNotConnected,
		Status:  http.StatusNotFound,
		Who:     Rep | Developer,
		Title:   "This CRM account is not connected to Qwoty",
		Message: "This CRM account has no Qwoty connection yet.",
		Hint:    "Connect this account from the Qwoty admin console (Settings → Integrations).",
		Cause:   "No connection has this org id (the message shows it in 18-character form), HubSpot hub id or Pipedrive company id.",
		OtherHints: "Salesforce: \"Connect this org from the Qwoty admin console (Settings → Integrations → Salesforce), or check the org id " +
			"with `qwoty connection add`.\"",
		Fix: "Connect the org. Compare the id in the message with Setup → Company Information. After a sandbox refresh the id is new: " +
			"[see below](#404-org_not_connected-after-a-sandbox-refresh).",
		OnCards: map[Card]CardText{
			CardSalesforce: {
				Title: "This Salesforce org is not connected to Qwoty",
				Fix: "An admin connects it in Qwoty (Settings → Integrations → Install the Salesforce integration → Connect my Salesforce org), " +
					"signing in to this org. Sandboxes are connected separately from production.",
			},
			CardHubSpot: {
				Title:   "HubSpot is not connected to Qwoty",
				Message: "This HubSpot account (portal) has no Qwoty connection yet.",
				Fix:     "Connect HubSpot in Qwoty → Settings → Integrations.",
			},
		},
	},
	{
		Code:    CodeOrgDisconnected,
		Status:  http.StatusForbidden,
		Who:     Rep | Admin | Developer,
		Title:   "An admin disconnected this account from Qwoty",
		Message: "A Qwoty admin disconnected this CRM account; its quotes are kept.",
		Hint:    "An admin disconnected this account; reconnect it from the Qwoty admin console (no data was lost).",
		Cause: "The connection was disconnected by an admin. From a callout, or from an open card (it is checked on every action), or the " +
			"connection moved to another workspace since the card opened. In the console: a test or rotation of a connection that is " +
			"disconnected, or was made without OAuth.",
		OtherHints: "Salesforce callout: \"An admin disconnected this org; reconnect it from the Qwoty admin console to restore the card " +
			"(no data was lost).\" Card: \"An admin disconnected this CRM account from Qwoty; reconnect it from the admin console.\"",
		Fix: "Reconnect the org; quotes are kept.",
		OnCards: map[Card]CardText{
			CardSalesforce: {
				Title: "An admin disconnected this org from Qwoty",
				Fix:   "Reconnect it in Qwoty (Settings → Integrations → Install the Salesforce integration → Connect my Salesforce org), then retry.",
			},
			CardHubSpot: {
				Title:   "The HubSpot connection is disconnected",
				Message: "A Qwoty admin disconnected this HubSpot account; its quotes are kept.",
				Fix:     "Reconnect HubSpot in Qwoty → Settings → Integrations.",
			},
		},
	},
	{
		Code:    CodeTokenMissing,
		Status:  http.StatusUnauthorized,
		Who:     Rep,
		Title:   "The card came without its session",
		Message: "The card page or one of its actions came without a session token.",
		Hint:    "Open the card from the CRM record again.",
		Cause:   "The card page or a card action came without a token (no `token` query, no `Authorization: Bearer`).",
		Fix: "Open the card from the record. The page needs the whole `embedUrl`, `token` included; the card's actions need the page's " +
			"bearer header.",
	},
	{
		Code:    CodeTokenInvalid,
		Status:  http.StatusUnauthorized,
		Who:     Rep,
		Title:   "This card link is not valid",
		Message: "The card's link was not issued by this Qwoty server, or it was changed.",
		Hint:    "Open the card from the CRM record again.",
		Cause: "The token is not one this server issued or is damaged: wrong signature or key, another audience, algorithm other than " +
			"HS256, issued in the future, incomplete, or for another CRM.",
		OtherHints: "A token that does not verify: \"Open the card from the CRM record; links cannot be edited or reused elsewhere.\"",
		Fix: "Reload the record. If it happens at random, the instances do not share the same `QWOTY_SECRET_KEY`, or their clocks differ by " +
			"more than 5 s.",
	},
	{
		Code:    CodeTokenExpired,
		Status:  http.StatusUnauthorized,
		Who:     Rep,
		Title:   "Session expired",
		Message: "The card's session has expired.",
		Hint:    "Reload the record page to open a fresh card.",
		Cause: "The embed token is older than 5 minutes, the page token older than 15 minutes, or the card session reached its 12-hour end " +
			"(counted from the signed request that opened the card; refreshing never extends it).",
		OtherHints: "At the session's end: \"Reload the CRM record page: it opens a new card session.\"",
		Fix:        "Usually automatic: the page tells the Salesforce component, which fetches a new card. Otherwise reload the record page.",
	},
	{
		Code:    CodeNotFound,
		Status:  http.StatusNotFound,
		Who:     Rep | Admin | Developer,
		Title:   "Not found",
		Message: "What the request asks for does not exist here, or no longer does.",
		Hint:    "Reload the card.",
		Cause: "Unknown path; or a quote or line that is not on this record (deleted, or another record's). In the console: " +
			"\"This workspace has no active salesforce connection.\"",
		OtherHints: "Path: \"Check the URL; the API is described in docs/callout-contract.md.\" Quote: \"It may have been deleted; reload the " +
			"card.\" Line: \"It may have been removed; reload the quote.\" Console: \"Connect it first from Settings → Integrations.\"",
		Fix: "For a callout, the named credential URL must be the bare Qwoty URL (Apex adds `/api/crm/cardView`). On the card, reload.",
	},
	{
		Code:    CodeValidation,
		Status:  http.StatusUnprocessableEntity,
		Who:     Rep | Admin | Developer,
		Title:   "A value is not accepted",
		Message: "A value is out of bounds or malformed.",
		Hint:    "Correct the value the message names.",
		Cause: "A value typed on the card is out of bounds; the message names the field (see [the list](#validation_failed-with-a-field-name)). " +
			"In the console, a form value (`role \"owner\" is not a role`, an email that exists already, a My Domain that is not one, " +
			"`email holds a NUL character`, `name is longer than 200 characters`).",
		OtherHints: "Each says what is accepted, e.g. \"Enter a percentage from 0 to 100.\"",
		Fix:        "Correct the value.",
	},
	{
		Code:    CodeInvalidTransition,
		Status:  http.StatusConflict,
		Who:     Rep | Developer,
		Title:   "The quote cannot move to that status",
		Message: "The requested status cannot follow the quote's current one.",
		Hint:    "Reload the quote and choose one of the moves it offers.",
		Cause: "The requested status cannot follow the current one. Allowed moves: draft → sent; sent → viewed, accepted, rejected, " +
			"expired, draft; viewed → accepted, rejected, expired, draft; rejected or expired → draft; accepted is final. Back to draft " +
			"is a revision (Revise): a draft has nothing to revise.",
		OtherHints: "The moves allowed, e.g. \"From sent it can move to viewed, accepted, rejected, expired, draft.\" (for accepted: " +
			"\"A accepted quote is final.\")",
		Fix: "Follow the allowed moves; for an accepted quote, create a new one.",
	},
	{
		Code:       CodeQuoteLocked,
		Status:     http.StatusConflict,
		Who:        Rep | Developer,
		Title:      "The quote is locked",
		Message:    "Only a draft quote's lines and terms can change.",
		Hint:       "Revise it (back to draft, as its next revision) to change it.",
		Cause:      "An edit of lines or terms on a quote that is not a draft.",
		OtherHints: "Accepted: \"An accepted quote is final: create a new quote for other terms.\"",
		Fix:        "Use **Revise** (the next revision becomes a draft; the one sent stays frozen), edit, send again; an accepted quote cannot change.",
	},
	{
		Code:    CodeVersionConflict,
		Status:  http.StatusConflict,
		Who:     Rep | Developer,
		Title:   "The quote was changed elsewhere",
		Message: "Someone else changed the quote since it was displayed, so the change was not saved.",
		Hint:    "Reload the quote to see the latest changes, then edit again.",
		Cause:   "Someone else changed the quote since it was displayed.",
		Fix:     "Reopen the quote and redo the edit; [see below](#version_conflict-when-two-reps-edit).",
	},
	{
		Code:    CodeMethodNotAllowed,
		Status:  http.StatusMethodNotAllowed,
		Who:     Developer,
		Title:   "Method not allowed",
		Message: "This path does not serve this HTTP method.",
		Hint:    "Check the method; signed callouts are POST.",
		Cause:   "A method the path does not serve, e.g. `GET /api/crm/cardView`.",
		Fix:     "Use `POST` for callouts.",
	},
	{
		Code:    CodeUnauthenticated,
		Status:  http.StatusUnauthorized,
		Who:     Admin,
		Title:   "Not logged in",
		Message: "You are not logged in.",
		Hint:    "Log in again; sessions last 12 hours.",
		Cause: "A console form was sent without a live session: you logged out (in this tab or another one), the 12-hour session ended, " +
			"or the browser dropped the cookie. Pages (GET) redirect to `/login` instead. A failed login also answers 401, with " +
			"\"That email and password do not match an account.\"",
		Fix: "Log in and do it again.",
	},
	{
		Code:    CodeForbidden,
		Status:  http.StatusForbidden,
		Who:     Admin,
		Title:   "Not allowed",
		Message: "Your account may not do this.",
		Hint:    "Ask an admin of your workspace.",
		Cause: "Three kinds of message. \"Only admins can change integrations and users.\" means a member or viewer opened an admin action " +
			"or page (including the audit log). \"This setup link is used, expired, or not valid.\" covers a setup link that was used, is " +
			"older than 24 h, was replaced by a later start, or was opened after an admin exists. \"Salesforce is not configured on this " +
			"server.\" means connecting with no `SALESFORCE_CLIENT_ID`/`SECRET` set; \"HubSpot is not configured on this server.\" and " +
			"\"Pipedrive is not configured on this server.\" are the same for those CRMs (connect or callback).",
		OtherHints: "Setup link: \"Restart the server to print a new setup link, or log in if an admin exists.\" Salesforce: \"Set " +
			"SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET on the server.\" HubSpot, Pipedrive: \"Set its client id and secret on the " +
			"Qwoty server.\"",
		Fix: "See [Console](#console).",
	},
	{
		Code:    CodeCSRF,
		Status:  http.StatusForbidden,
		Who:     Admin,
		Title:   "The form is stale",
		Message: "This form is stale or was not sent from the Qwoty console.",
		Hint:    "Reload the page and submit the form again.",
		Cause: "\"This form is stale or was not sent from the Qwoty console.\" means the form's token belongs to an earlier session (the " +
			"page was loaded before you logged out and in again), or the browser's `Origin` is not `APP_URL`'s. \"This form was sent from " +
			"another site.\" means the login or setup form was posted from another origin.",
		OtherHints: "Another site: \"Open the Qwoty console at its own address and try again.\"",
		Fix:        "Reload and resubmit. If every form fails, open the console at exactly `APP_URL` (same scheme, host and port).",
	},
	{
		Code:    CodeWorkspaceConnected,
		Status:  http.StatusConflict,
		Who:     Admin,
		Title:   "Already connected elsewhere",
		Message: "This CRM account belongs to another Qwoty workspace, or this workspace has another active CRM.",
		Hint:    "Connect the account from the workspace that owns it, or disconnect this workspace's current CRM first.",
		Cause: "On the OAuth callback: \"This salesforce account (00D…) belongs to another Qwoty workspace.\" (`hubspot` or `pipedrive` " +
			"and their account id for those CRMs) or \"This workspace already has an active CRM connection.\"",
		OtherHints: "Another workspace: \"An account belongs to the Qwoty workspace that first connected it, with its quotes: sign in to " +
			"that workspace (ask its admin), or contact support to move it.\" Another CRM: \"Disconnect the current CRM in Settings → " +
			"Integrations first; a workspace has one active CRM connection.\"",
		Fix: "See [Console](#console). Disconnecting in the other workspace does not free the org.",
	},
	{
		Code:    CodeOAuthFailed,
		Status:  http.StatusBadRequest,
		Who:     Admin,
		Title:   "The sign-in with the CRM did not complete",
		Message: "The sign-in with the CRM could not be completed.",
		Hint:    "Start again from Settings → Integrations.",
		Cause: "On the OAuth callback. \"This sign-in link is not valid for this session (unknown, expired or already used).\" means it " +
			"took more than 10 minutes, the session changed, or the callback page was reloaded. \"Salesforce did not authorise the " +
			"connection: …\" means Salesforce sent an error, e.g. `access_denied`. \"The sign-in with Salesforce could not be " +
			"completed.\" means the code exchange failed. HubSpot and Pipedrive give the same messages with their own name, and " +
			"\"This sign-in was started for another CRM.\" when one CRM's sign-in came back to another CRM's callback.",
		OtherHints: "Expired link: \"Start again from Settings → Integrations; the sign-in must finish in the same browser session within " +
			"10 minutes.\" Refused: \"Try again, and approve access when Salesforce asks.\"",
		Fix: "Start again from Integrations, in one go, and approve access when Salesforce asks.",
	},
	{
		Code:    CodeCRMUnavailable,
		Status:  http.StatusBadGateway,
		Who:     Admin,
		Title:   "The CRM could not be updated",
		Message: "Qwoty could not write into the CRM.",
		Hint:    "Fix the problem the message names, then try again.",
		Cause: "**Rotate secret**: the new secret is now the server's, but it could not be written into the org. The message says why: " +
			"\"The new secret could not be written into the org: …\".",
		OtherHints: "Rotate secret: \"The previous secret works for 10 minutes: fix the problem and rotate again before then.\"",
		Fix: "Fix the reason, then rotate again within 10 minutes. After that, cards answer `signature_invalid` until a rotation or " +
			"reconnect succeeds.",
	},
	{
		Code:    CodeInternal,
		Status:  http.StatusInternalServerError,
		Who:     Rep | Admin | Developer,
		Title:   "Qwoty had an internal error",
		Message: "Something went wrong on our side.",
		Hint:    "Try again; if it persists, contact support with the request id.",
		Cause:   "A fault on the server (database error, a secret that does not open, a bug). The cause is in the log, never in the answer.",
		Fix:     "Find the `request failed` line by its request id; [see below](#500-internal).",
		CardFix: "Try again in a moment. If it persists, send the request id below to Qwoty support: it finds the error in the logs.",
		OnCards: map[Card]CardText{
			CardSalesforce: {},
			CardHubSpot:    {Title: "Qwoty had a problem"},
		},
	},
	{
		Code:    CodeUnavailable,
		Status:  http.StatusServiceUnavailable,
		Who:     Rep | Admin | Developer,
		Title:   "Qwoty is temporarily unavailable",
		Message: "The Qwoty server could not reach its database for a moment.",
		Hint:    "Try again in a few seconds. If it persists, the Qwoty operator checks that PostgreSQL is up.",
		Cause: "The database was briefly unreachable (PostgreSQL restarting, a failover, the network to it cut): its connections dropped, " +
			"new ones refused, or a wait for one ran out while they were refused. Any endpoint that reads the database answers so, with a " +
			"`Retry-After: 2` header; the card page and the console show it as a page, a card action above the card. Also `/readyz`, its " +
			"message naming the check that failed: `shutdown` (the instance is shutting down), `database` (it did not answer within 2 s), " +
			"`migrations` (the database lacks a migration this version has) or `workers` (the job workers are not running). A login: " +
			"\"The server is busy checking other logins\".",
		OtherHints: "Shutting down: \"This instance is shutting down; the load balancer will use another.\" `/readyz`: \"Check " +
			"DATABASE_URL and that PostgreSQL is up.\", \"Run qwoty migrate, or start one instance of this version: it migrates at start.\", \"Look for the job workers' error in the instance's log.\" Busy login: \"Wait a few seconds, then send the form again.\"",
		Fix: "Database: nothing; the Salesforce component, the HubSpot card and Pipedrive's custom panel say \"temporarily unavailable, " +
			"retrying\" and retry once after `Retry-After`. If it persists, check PostgreSQL: " +
			"[see below](#503-unavailable-during-a-database-restart). [`/readyz`](#readyz-answers-503).",
		CardFix: "The card already tried again once. Try again in a few seconds; if it keeps failing, ask your Qwoty operator to check " +
			"the Qwoty server and its database (PostgreSQL).",
		OnCards: map[Card]CardText{
			CardSalesforce: {},
			CardHubSpot:    {},
		},
	},
	{
		Code:    CodeNotConfigured,
		Status:  http.StatusServiceUnavailable,
		Who:     Admin | Developer,
		Title:   "Not configured on this server",
		Message: "This Qwoty server lacks the settings the request needs.",
		Hint:    "Set the CRM app's client id and secret on the Qwoty server, then restart it.",
		Cause: "The HubSpot and Pipedrive endpoints (`/api/crm/hubspot/card`, `/api/crm/pipedrive/panel`, the custom panel's launch, " +
			"`/embed/pipedrive/session`) on a server where that CRM's app is not configured: \"HubSpot is not configured on this server\" / " +
			"\"Pipedrive is not configured on this server\". No `Retry-After`: waiting does not help, and the cards do not retry.",
		OtherHints: "\"Set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET on the Qwoty server.\" / \"Set PIPEDRIVE_CLIENT_ID and " +
			"PIPEDRIVE_CLIENT_SECRET (and PIPEDRIVE_JWT_SECRET) on the Qwoty server.\"",
		Fix: "Set the variables on every instance and restart: [HubSpot and Pipedrive](#hubspot-and-pipedrive).",
	},
	{
		Code:    CodeRateLimited,
		Status:  http.StatusTooManyRequests,
		Who:     Admin,
		Title:   "Too many attempts",
		Message: "Too many failed logins from your network.",
		Hint:    "Wait, then log in again.",
		Cause: "A login refused before its password was checked, with `Retry-After`. \"Too many failed attempts for this email from your " +
			"network: wait …\": this address failed this email more than 5 times; each further failure doubles the wait (1 s up to 15 " +
			"min). \"Too many failed logins from your network: wait …\": more than 20 failures from this address over all emails. " +
			"\"Another login from your network is still being checked\": the address has 2 logins in flight already. The account itself " +
			"is never locked: from another address its owner logs in (up to 3 s slower while the account is under attack). A login can " +
			"also answer 503 `unavailable`, \"The server is busy checking other logins\", when 32 logins already wait for a password check. " +
			"The message says how long to wait. The public API (`/api/v1`) answers the same code to a key over its rate limit " +
			"(docs/api.md, *Limits*): \"this API key is over its rate limit: 600 requests a minute, up to 100 at once\", with " +
			"`Retry-After` (seconds until the key's bucket holds a request again) and the `RateLimit` fields; the limit is per key, " +
			"shared by every instance.",
		Fix: "Wait, then log in. If all users behind one load balancer get this together, the server sees the balancer's address for " +
			"everyone: set `QWOTY_TRUSTED_PROXIES` to it. An API client waits `Retry-After` and sends the request again, and spreads " +
			"its calls; the server's operator can raise `QWOTY_API_RATE_LIMIT`.",
	},

	// Connection health: recorded on a connection by a check, shown by the
	// console, never an HTTP answer.
	{
		Code:    CodePackageNotInstalled,
		Who:     Admin,
		Title:   "The Qwoty package is not installed in the org",
		Message: "Salesforce answered, but the Qwoty package is not installed in this org.",
		Hint:    "Install the Qwoty package in the org (Reconnect shows the install links), then reconnect.",
		Cause: "The org the admin signed in to has no Qwoty package: Salesforce answered `OAUTH_EC_APP_NOT_FOUND` while connecting, or " +
			"the package's config resource does not exist (the package was removed after connecting). Connect lands on step 1 with " +
			"\"The org has no Qwoty package yet: install it first, then connect again.\" (409).",
		Fix: "Install the package in **that** org: the production link for production and Developer Edition, the sandbox link for " +
			"sandboxes. Then connect again. Check that you signed in to the right org.",
	},
	{
		Code:    CodeInsufficientAccess,
		Who:     Admin,
		Title:   "The Salesforce user may not change Qwoty's settings",
		Message: "Salesforce answered, but the Salesforce user who connected may not change Qwoty's settings.",
		Hint:    "Give that user Customize Application and the Qwoty Admin permission set in Setup, or reconnect as a user who has them.",
		Cause: "The Salesforce user who connected has neither Customize Application nor Modify All Data (the package's " +
			"`INSUFFICIENT_ACCESS`), or has no access to the package's Apex class (Salesforce's own 403).",
		Fix: "In Salesforce, give that user Customize Application (System Administrators have it) and the **Qwoty Admin** permission " +
			"set, then **Reconnect**.",
	},
	{
		Code:    CodeRefreshRejected,
		Who:     Admin,
		Title:   "The CRM no longer accepts Qwoty's access",
		Message: "The CRM refused Qwoty's refresh token: the access was revoked or expired, or the org was refreshed.",
		Hint:    "Reconnect, and approve access when the CRM asks.",
		Cause: "The CRM answered `invalid_grant` to a token refresh: the app's access was revoked (or the app uninstalled), the connecting " +
			"user was deactivated, the refresh-token policy expired the token, or a Pipedrive token went unused for 60 days. Cards " +
			"still open while the org's secret matches; HubSpot and Pipedrive quotes are no longer prefilled from the deal.",
		Fix: "**Reconnect** (Integrations → Reconnect → step 2), or for HubSpot and Pipedrive **Disconnect**, then **Connect** again: " +
			"the same connection and its quotes come back.",
	},
	{
		Code:    CodeNoOAuthToken,
		Who:     Admin,
		Title:   "The connection was made with the command line",
		Message: "This connection was made with the command line (qwoty connection add), so the console holds no access to the CRM to test it.",
		Hint:    "Reconnect from the console, signing in to the CRM: cards keep working meanwhile.",
		Cause:   "The connection was made with `qwoty connection add`, which stores no OAuth token: the console cannot test, rotate or read through it.",
		Fix:     "**Reconnect** from the console; then test or rotate.",
	},
	{
		Code:    CodeCRMUnreachable,
		Who:     Admin,
		Title:   "Qwoty could not reach the CRM",
		Message: "Qwoty could not reach the CRM: its address was not found, the connection failed, or no answer came in time.",
		Hint:    "Check that this server can resolve internet names and open outgoing HTTPS connections, then test again.",
		Cause: "This server never reached the CRM: its DNS could not resolve the org's host, the connection timed out, or it was refused " +
			"(a firewall or proxy on the server's side, or a My Domain that changed). The report's **Technical detail** has the network error.",
		Fix: "Check that the Qwoty server can resolve internet names and open outgoing HTTPS connections, then test again. If the org's " +
			"My Domain changed, **Reconnect**.",
	},
	{
		Code:    CodeCRMError,
		Who:     Admin,
		Title:   "The CRM answered with an error",
		Message: "The CRM answered with an error Qwoty did not expect.",
		Hint:    "Test again; if it keeps failing, give the technical detail to support.",
		Cause:   "The CRM answered a call with a server error (maintenance), refused it, or answered something Qwoty does not understand.",
		Fix:     "Read the message, retry **Test connection**, and check the log line with the request id.",
	},
	{
		Code:    CodeTestFailed,
		Who:     Admin,
		Title:   "A step of the connection test failed",
		Message: "A step of the org's round trip to this server failed.",
		Hint:    "Follow the failed step's fix, then test again.",
		Cause:   "A step of the package's ping failed. The report shows the steps and a **Fix:** line.",
		Fix: "`token` failed: **Reconnect**. `config` failed: **Reconnect** (it writes the secret and app URL into Qwoty Config). " +
			"`callout` failed: in Setup → Named Credentials, `Qwoty_API` must point at `APP_URL`, and the connecting admin needs Qwoty " +
			"Admin (reps need Qwoty User). `signature` failed: **Rotate secret** (or Reconnect) to write the current secret. Then test again.",
	},
	{
		Code:    CodeSyncReconnect,
		Who:     Rep | Admin,
		Title:   "Reconnect to enable sync",
		Message: "This connection was made before Qwoty wrote to the CRM, so it lacks the permissions sync needs; quotes are kept and will be pushed once it is reconnected.",
		Hint:    "Reconnect the CRM from Integrations and approve the new permissions: pending quotes are pushed then.",
		Cause: "HubSpot and Pipedrive connections made before sync were granted read scopes only. Sync needs the write scopes " +
			"(deals, line items and products); nothing is pushed, and nothing is lost, until the admin connects again. " +
			"The card says \"Waiting: reconnect to enable sync\" on the record's quotes (reps cannot fix it: no Retry); " +
			"Integrations shows sync's warning with a **Reconnect** button.",
		Fix: "**Reconnect** (Integrations), approve the permissions the CRM lists, and watch the pending count on Integrations fall to zero.",
	},
	{
		Code:    CodeSyncRejected,
		Who:     Rep | Admin,
		Title:   "The CRM refused the quote's data",
		Message: "The CRM refused what Qwoty sent for this quote; the message says which field or rule.",
		Hint:    "Fix what the CRM's message names (a required field, a validation rule, a product or a price book), then Retry.",
		Cause: "The CRM answered a push with a validation error (a required field, a validation rule, a picklist value, a missing " +
			"price book entry, a field of the Qwoty package missing or hidden by field-level security). Sending it again cannot help, " +
			"so the push failed at once; the sync log has the CRM's own message, and the card shows it as \"Sync failed: \" followed by it, with a **Retry** button.",
		Fix: "Read the CRM's message in the sync log, fix the rule, field or access it names (in the CRM or in Qwoty's stage map), then " +
			"**Retry** from the card or Integrations → Sync log.",
	},
	{
		Code:    CodeSyncFailed,
		Who:     Rep | Admin,
		Title:   "The quote could not be pushed to the CRM",
		Message: "Qwoty could not push this quote to the CRM after several tries.",
		Hint:    "Retry; if it fails again, look at the sync log on Integrations for the CRM's answer.",
		Cause: "The CRM failed the push three more times after the first try (a server error, a time-out, the CRM unreachable). " +
			"Workspace admins were alerted once.",
		Fix: "Check the CRM's status page and the sync log's error, then **Retry** (card or Integrations → Sync log).",
	},
	{
		Code:    CodeFilterInvalid,
		Status:  http.StatusBadRequest,
		Who:     Admin,
		Title:   "The sync log's filter is not valid",
		Message: "A value of the sync log's filter is not one the log accepts.",
		Hint:    "Use the filter form of the sync log; the message names the field.",
		Cause: "The sync log (or its export or bulk Retry) was asked for with a filter value no form of the console writes: an outcome or " +
			"direction not in the list, a date not in YYYY-MM-DD form or a *to* date before the *from* date, a run id that is not a UUID, a " +
			"record id or object over 255 characters, or a page link (`before`, `after`) that is not a log entry's number.",
		Fix: "Choose the values from the filter form, or fix the link; docs/sync.md lists the filters.",
	},
	{
		Code:    CodeExportTooLarge,
		Status:  http.StatusUnprocessableEntity,
		Who:     Admin,
		Title:   "Too many sync log rows to export",
		Message: "The filter matches more rows than one export holds (100,000).",
		Hint:    "Narrow the filter (a shorter date range, an outcome, an object) and export each part.",
		Cause:   "A CSV export of the sync log holds at most 100,000 rows; the filter matched more, so nothing was exported rather than a silently cut file.",
		Fix:     "Export in parts: one date range at a time (the log keeps 90 days), or by outcome or object.",
	},
	{
		Code:    CodeInvitationInvalid,
		Status:  http.StatusGone,
		Who:     Admin,
		Title:   "The invitation link does not work",
		Message: "This invitation link is used, revoked, expired, or not valid.",
		Hint:    "Ask the admin who invited you to resend the invitation.",
		Cause: "An invitation link works once, for 7 days. The message says which: it was used already (the account exists: log in), " +
			"an admin revoked it or resent the invitation (which makes a new link and kills the old one), it expired, or the link " +
			"was cut or mistyped.",
		Fix: "An admin resends the invitation from Settings → Users; the new email has a fresh link.",
	},
	{
		Code:    CodeAlreadyMember,
		Status:  http.StatusConflict,
		Who:     Admin,
		Title:   "That person has an account already",
		Message: "This email address belongs to an account already.",
		Hint:    "They can log in already; an address has one account.",
		Cause: "An admin invited an email address that has an account (in this workspace or another: an address has one account), " +
			"or an invitee accepted after an account was made for the same address.",
		Fix: "Nothing to do if they are in this workspace: change nothing, they log in. Use another address otherwise.",
	},
	{
		Code:    CodeAPIKeyInvalid,
		Status:  http.StatusUnauthorized,
		Who:     Developer,
		Title:   "No valid API key",
		Message: "This request has no valid API key.",
		Hint:    "Send the key as \"Authorization: Bearer qwk_…\"; an admin creates keys in the console under Settings → Integrations → API keys.",
		Cause: "A call to `/api/v1` without an `Authorization: Bearer` header, with a token that is not shaped like a Qwoty key " +
			"(`qwk_` and 46 characters, the last six a checksum: a key copied in part fails here), or with a key that does not exist.",
		Fix: "Copy the whole key from where you kept it when it was created (the console shows it once); if it is lost, create a new one.",
	},
	{
		Code:    CodeAPIKeyExpired,
		Status:  http.StatusUnauthorized,
		Who:     Developer,
		Title:   "API key expired",
		Message: "This API key has expired.",
		Hint:    "Ask an admin for a new key; a key's expiry cannot be extended.",
		Cause:   "The key was created with an expiry date, and it has passed.",
		Fix:     "Create a new key in the console (Settings → Integrations → API keys) and replace the old one where it is used.",
	},
	{
		Code:    CodeAPIKeyRevoked,
		Status:  http.StatusUnauthorized,
		Who:     Developer,
		Title:   "API key revoked",
		Message: "This API key was revoked.",
		Hint:    "Ask an admin for a new key.",
		Cause:   "An admin revoked the key in the console. Revocation takes effect at once, on every instance of the server.",
		Fix:     "Create a new key in the console (Settings → Integrations → API keys) and replace the old one where it is used.",
	},
	{
		Code:    CodeScopeMissing,
		Status:  http.StatusForbidden,
		Who:     Developer,
		Title:   "Scope missing",
		Message: "This API key lacks the scope this call needs.",
		Hint:    "Use a key with the scope named in the message; scopes are listed in docs/api.md.",
		Cause: "Each route needs one scope (`quotes:read` to list quotes, `quotes:write` to create one, …); the message names it. " +
			"A key's scopes are fixed when it is created; the read-only preset has every `:read` scope and nothing else.",
		Fix: "Create a key with the scopes the integration needs, or use another key.",
	},
	{
		Code:    CodeDeliveryPending,
		Status:  http.StatusConflict,
		Who:     Developer | Admin,
		Title:   "The webhook delivery is still being tried",
		Message: "This delivery is pending: Qwoty is still trying it.",
		Hint:    "Wait for it to succeed or for its retries to end; the delivery log shows the next attempt.",
		Cause: "Redeliver sends again a delivery that succeeded or failed for good. A pending one has a retry scheduled " +
			"(retries go on with growing waits for more than a day), so a second send now would be a duplicate.",
		Fix: "Wait for the retry (its time is in the delivery log), or, once it has failed for good, redeliver it.",
	},
	{
		Code:    CodeIdempotencyKeyReused,
		Status:  http.StatusUnprocessableEntity,
		Who:     Developer,
		Title:   "Idempotency key reused",
		Message: "This Idempotency-Key was used with another request.",
		Hint:    "Use a new key for a new request; resend the same request (method, path, body) to get its answer again.",
		Cause: "A write carried an `Idempotency-Key` that the same API key used within 24 hours for a request with another method, " +
			"path or body. Qwoty keeps the first answer per key and replays it only for the same request.",
		Fix: "Make a fresh key (a UUID) for every distinct write; reuse a key only to retry the very same request.",
	},
	{
		Code:    CodeIdempotencyKeyInProgress,
		Status:  http.StatusConflict,
		Who:     Developer,
		Title:   "Idempotent request still running",
		Message: "A request with this Idempotency-Key is still being processed.",
		Hint:    "Retry in a few seconds with the same key: you will get its answer.",
		Cause: "The same `Idempotency-Key` was sent again while the first request with it was still running, and it did not " +
			"finish within the 10 seconds a duplicate waits for it.",
		Fix: "Retry later with the same key and body; the first request's answer is replayed once it is done.",
	},
	{
		Code:    CodeQuoteEmpty,
		Status:  http.StatusUnprocessableEntity,
		Who:     Rep | Developer,
		Title:   "A quote without lines cannot be sent",
		Message: "This quote has no lines, so there is nothing to send.",
		Hint:    "Add at least one line, then send the quote.",
		Cause:   "\"Send\" was used on a quote that has no line: the customer's page would offer nothing.",
		Fix:     "Add the quote's lines on the card, then send it again.",
	},
	{
		Code:    CodeRecipientInvalid,
		Status:  http.StatusUnprocessableEntity,
		Who:     Rep | Developer,
		Title:   "A recipient of the quote is not valid",
		Message: "A recipient is not a valid email address.",
		Hint:    "Pick the deal's contacts or type addresses like name@example.com, separated by commas (20 at most).",
		Cause: "The send form named an address that does not parse as an email address, no recipient at all, more than 20 recipients, " +
			"a contact that is not on the deal, or a subject or message over its limit (200 and 5000 characters); the message names which.",
		Fix: "Correct the address the message names and send again.",
	},
	{
		Code:    CodeLinkExpired,
		Status:  http.StatusGone,
		Who:     Rep,
		Title:   "The quote's link has expired",
		Message: "This link to the quote has expired.",
		Hint:    "Ask the sender for a new link.",
		Cause: "A customer opened a quote link after its expiry: the later of the quote's valid-until date and 90 days after it was sent " +
			"(docs/customer-page.md).",
		Fix: "Send the quote again from the card: every send makes a new link.",
	},
	{
		Code:    CodeQuoteChanged,
		Status:  http.StatusConflict,
		Who:     Rep,
		Title:   "The quote changed since the page was opened",
		Message: "This quote changed since you opened the page, so your answer was not recorded.",
		Hint:    "Read the current version below, then accept or reject it.",
		Cause: "A customer accepted or rejected a version of the quote that is no longer the current one (the rep revised it, or it was " +
			"already accepted, rejected or expired): the page's version hash differs from the quote's.",
		Fix: "Nothing to fix: the page shows the current version, which the customer can answer.",
	},
	{
		Code:    CodeLogoInvalid,
		Status:  http.StatusUnprocessableEntity,
		Who:     Admin,
		Title:   "The logo is not a small PNG or JPEG",
		Message: "The logo must be a PNG or JPEG image of at most 256 KB.",
		Hint:    "Upload a PNG or JPEG of 256 KB or less (2048 pixels a side at most).",
		Cause:   "The uploaded logo is larger than 256 KB, larger than 2048 pixels a side, or not a PNG or JPEG image.",
		Fix:     "Export the logo as a PNG or JPEG of at most 256 KB and upload it again.",
	},
	{
		Code:    CodeOrderReadOnly,
		Status:  http.StatusConflict,
		Who:     Rep,
		Title:   "The order was made in the CRM",
		Message: "This order was made in the CRM: change it there.",
		Hint:    "Open the order in the CRM to change its status; Qwoty shows it as the CRM has it.",
		Cause: "Someone tried to change, through the card, the console or the API, an order that was pulled from the CRM (a Salesforce " +
			"Order, a HubSpot order): Qwoty shows such orders and does not own them (docs/orders.md).",
		Fix: "Change the order in the CRM; the next pull brings the change into Qwoty.",
	},
	{
		Code:    CodeQuoteNoRecord,
		Status:  http.StatusConflict,
		Who:     Rep | Developer,
		Title:   "The quote is not on a CRM deal yet",
		Message: "This quote has no CRM deal yet.",
		Hint:    "Qwoty makes its deal when the quote reaches the status your admin chose (Settings → Integrations → Sync settings); try again then.",
		Cause: "The quote was made outside a CRM record (through the API, for a customer) and its deal has not been made yet: what was " +
			"asked (making it the record's primary quote, a sync of its record) needs the record. The deal is made when the quote reaches " +
			"the connection's deal status (sent, by default), or never when the admin chose so (docs/deals.md).",
		Fix: "Wait for the deal (the console's Quotes page shows \"Deal being made\", or \"Deal failed:\" and why, with Retry), or send the quote; an admin can change " +
			"the status that makes deals under Settings → Integrations → Sync settings.",
	},
	{
		Code:    CodeRecordOrCustomer,
		Status:  http.StatusUnprocessableEntity,
		Who:     Developer,
		Title:   "A quote needs a CRM record or a customer",
		Message: "A quote needs a CRM record (crmRecordId) or a customer (customerId).",
		Hint:    "Give crmRecordId to quote on a deal, or customerId to quote a customer: Qwoty then makes the deal when the quote is sent.",
		Cause:   "POST /api/v1/quotes had neither crmRecordId nor customerId: Qwoty would not know whom the quote is for, nor where its deal goes.",
		Fix:     "Send one of them; a customer Qwoty does not know yet is made first with PUT /api/v1/customers (docs/deals.md).",
	},
	{
		Code:    CodeQuoteOnRecord,
		Status:  http.StatusConflict,
		Who:     Admin,
		Title:   "The quote is on a CRM deal",
		Message: "This quote is on a CRM deal: it is edited and sent from the card on that deal.",
		Hint:    "Open the deal in the CRM and change the quote in the Qwoty card there.",
		Cause: "The console edits, sends and revises only the quotes made for a customer that have no CRM deal yet. A quote on a deal " +
			"(made in the card, or made for a customer whose deal Qwoty has made since) belongs to that deal's card, where its rep and " +
			"the CRM see every change.",
		Fix: "Use the card on the deal the quote's page names. A quote whose deal was made while its form was open is on that deal now.",
	},
}
