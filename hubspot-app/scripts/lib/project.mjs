// Facts about the HubSpot project that the checks and retarget.mjs share.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** hubspot-app/, the folder holding hsproject.json. */
export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The app URL written in the sources; retarget.mjs replaces it in a build copy. */
export const PLACEHOLDER_APP_URL = 'https://app.qwoty.example';

/** Path of the HubSpot OAuth callback on the Qwoty server. */
export const OAUTH_CALLBACK_PATH = '/oauth/hubspot/callback';

/** Developer platform version of hsproject.json (the current one in HubSpot's CLI). */
export const PLATFORM_VERSION = '2026.03';

/**
 * Scopes the app requires: read deals and their companies (the card's data),
 * HubSpot's basic oauth scope, and what sync writes with: deals, line items,
 * and the line item property qwoty_ref (docs/sync-hubspot.md). The server's
 * install URL must ask for exactly these (crm/hubspot DefaultScopes, whose
 * test reads this project's app-hsmeta.json), or HubSpot refuses the install.
 */
export const REQUIRED_SCOPES = Object.freeze([
    'oauth',
    'crm.objects.deals.read',
    'crm.objects.companies.read',
    'crm.objects.deals.write',
    'crm.objects.line_items.read',
    'crm.objects.line_items.write',
    'crm.schemas.line_items.read',
    'crm.schemas.deals.write',
    'crm.objects.contacts.read',
    'crm.objects.products.read',
    'crm.schemas.deals.read',
    'crm.schemas.companies.read',
    // Filing each sent quote's PDF on its deal (crm/hubspot's ArchiveScopes).
    'files',
    'crm.objects.contacts.write',
    // Making companies and deals for quotes made outside HubSpot
    // (crm/hubspot's DealScopes).
    'crm.objects.companies.write',
    'crm.schemas.companies.write'
]);

/**
 * Scopes the app asks for without requiring them (the install URL's
 * optional_scope, crm/hubspot OptionalScopes): HubSpot orders, a commerce
 * object not every account has. Required, they would refuse the install in
 * such an account; optional, Qwoty writes and pulls orders where granted.
 */
export const OPTIONAL_SCOPES = Object.freeze([
    'crm.objects.orders.read',
    'crm.objects.orders.write'
]);

/**
 * Returns the origin of url when it is an https URL with no path, query,
 * fragment or credentials; throws an Error saying what is wrong otherwise.
 */
export function normalizeAppUrl(url, flag = '--app-url') {
    let parsed;
    try {
        parsed = new URL(url);
    } catch {
        throw new Error(`${flag} ${JSON.stringify(url)} is not a URL (expected e.g. https://quotes.example.com)`);
    }
    if (parsed.protocol !== 'https:') {
        throw new Error(`${flag} must use https (HubSpot only fetches and frames https URLs), got ${JSON.stringify(url)}`);
    }
    if (parsed.username || parsed.password) {
        throw new Error(`${flag} must not contain credentials, got ${JSON.stringify(url)}`);
    }
    if (parsed.pathname !== '/' || parsed.search || parsed.hash || /\/\/[^/]+\/./.test(url)) {
        throw new Error(`${flag} must be a bare origin without path, query or fragment, got ${JSON.stringify(url)}`);
    }
    return parsed.origin;
}
