/*
 * What the Qwoty card tells a user (and the admin they forward it to) for
 * every outcome that is not the card itself. Each entry names the cause in
 * the title and the fix an admin can act on; the server's own message, hint
 * and requestId are shown beside it by the component. The texts of the
 * server's codes come from Qwoty's error catalogue, like the server's hints
 * and docs/troubleshooting.md: change them there, then run make generate.
 */

// BEGIN generated from the error catalogue (qwoty/catalogue_texts.go) by make generate: edit the catalogue, not this table.
// Error codes of the signed callout contract (the server's error.code values).
const SERVER_CODES = {
    bad_request: {
        title: 'Qwoty rejected the request as malformed',
        fix: 'This usually means the Qwoty package is older than the Qwoty server. Upgrade the package from the install links in Qwoty (Settings → Integrations → Salesforce → Reconnect, step 1). If it persists, send the request id to Qwoty support.'
    },
    payload_too_large: {
        title: 'The opportunity data sent to Qwoty is too large',
        fix: 'Shorten unusually long values on this opportunity (name, account name), then retry. If it persists, send the request id to Qwoty support.'
    },
    signature_missing: {
        title: 'The request reached Qwoty without its signature',
        fix: 'Something between Salesforce and Qwoty removed the X-Qwoty-Signature header. In Setup → Named Credentials, check that Qwoty_API is the one installed by the package and has no custom headers.'
    },
    signature_invalid: {
        title: 'Qwoty could not verify the signature of this org',
        fix: 'The secret stored in this org no longer matches the one in Qwoty (for example after a sandbox refresh or a reconnection from another workspace). An admin reconnects the org in Qwoty (Settings → Integrations → Salesforce → Reconnect → Connect my Salesforce org), which writes a fresh secret.'
    },
    timestamp_out_of_range: {
        title: "The request's time is too far from Qwoty's clock",
        fix: "Try again. If it keeps happening, ask your Qwoty operator to synchronise the server's clock (NTP)."
    },
    replayed_request: {
        title: 'Qwoty received the same signed request twice',
        fix: 'Try again: each attempt is signed anew. If it keeps happening, something between the CRM and Qwoty is resending requests.'
    },
    org_not_connected: {
        title: 'This Salesforce org is not connected to Qwoty',
        fix: 'An admin connects it in Qwoty (Settings → Integrations → Install the Salesforce integration → Connect my Salesforce org), signing in to this org. Sandboxes are connected separately from production.'
    },
    org_disconnected: {
        title: 'An admin disconnected this org from Qwoty',
        fix: 'Reconnect it in Qwoty (Settings → Integrations → Install the Salesforce integration → Connect my Salesforce org), then retry.'
    },
    internal: {
        title: 'Qwoty had an internal error',
        fix: 'Try again in a moment. If it persists, send the request id below to Qwoty support: it finds the error in the logs.'
    },
    unavailable: {
        title: 'Qwoty is temporarily unavailable',
        fix: 'The card already tried again once. Try again in a few seconds; if it keeps failing, ask your Qwoty operator to check the Qwoty server and its database (PostgreSQL).'
    }
};
// END generated from the error catalogue.

// Codes produced inside Salesforce, before or instead of a server answer.
const PACKAGE_CODES = {
    CONFIG_NOT_FOUND: {
        title: 'Qwoty is not set up in this org yet.',
        fix: 'An admin connects the org in Qwoty: Settings → Integrations → Salesforce (Install the Salesforce integration, or Reconnect) → Connect my Salesforce org, signing in to this org. That stores its secret here; then retry. (The Qwoty Config custom setting has no org default or an empty secret.)'
    },
    CALLOUT_FAILED: {
        title: 'Salesforce could not call the Qwoty server.',
        fix: 'Check that your user has the Qwoty User permission set (it grants access to the Qwoty external credential) and that Setup → Named Credentials → Qwoty API points at your Qwoty URL. "Unauthorized endpoint" means the call did not go through that named credential.'
    },
    RECORD_NOT_ACCESSIBLE: {
        title: 'You cannot read the opportunity fields Qwoty needs.',
        fix: 'Qwoty reads the name, account, amount, stage and close date with your own permissions. Ask your admin for read access to them.'
    },
    INVALID_RESPONSE: {
        title: 'The Qwoty server answered with something the card cannot use.',
        fix: 'Check that the Qwoty API named credential points at the Qwoty server itself, not at a login page or a proxy. If it does, send the request id to Qwoty support.'
    },
    APEX_ERROR: {
        title: 'The Qwoty card could not run.',
        fix: 'Make sure your user has the Qwoty User permission set, then retry. If it persists, send the details below to your admin.'
    }
};

const HTTP_FALLBACK = {
    title: 'The Qwoty server could not be reached properly.',
    fix: 'Something other than Qwoty answered (a proxy, a load balancer or a maintenance page). Check the URL of the Qwoty API named credential, then retry.'
};

const UNKNOWN = {
    title: 'The Qwoty card could not load.',
    fix: 'Retry. If it persists, send the code and request id below to Qwoty support.'
};

/** What the card shows while it waits to retry an unavailable answer once. */
export const RETRYING = 'Qwoty is temporarily unavailable, retrying…';

/**
 * The notice shown when the iframe did not report "ready" in time: the
 * browser most likely refused to frame the page.
 */
export const FRAME_BLOCKED = {
    title: 'The Qwoty page did not load inside the card.',
    fix: 'An admin checks Setup → CSP Trusted Sites: Qwoty_App must be active for Lightning Experience. If it is, Qwoty refused to be framed by this domain (frame-ancestors): reconnect the org in Qwoty so it knows your My Domain, then retry.'
};

/**
 * Returns the title and fix for an error code. Unknown codes and HTTP_<status>
 * fallbacks still get a useful message: the card never shows a blank box.
 */
export function describeError(code) {
    if (code && Object.prototype.hasOwnProperty.call(SERVER_CODES, code)) {
        return SERVER_CODES[code];
    }
    if (code && Object.prototype.hasOwnProperty.call(PACKAGE_CODES, code)) {
        return PACKAGE_CODES[code];
    }
    if (typeof code === 'string' && /^HTTP_\d{3}$/.test(code)) {
        return HTTP_FALLBACK;
    }
    return UNKNOWN;
}

/** Every code with a dedicated message, for tests and documentation. */
export const KNOWN_CODES = [...Object.keys(SERVER_CODES), ...Object.keys(PACKAGE_CODES)];
