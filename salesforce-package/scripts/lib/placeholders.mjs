// The app URL written in the sources. scripts/retarget.mjs replaces it in a
// build copy; nothing else should hard-code it.
export const PLACEHOLDER_APP_URL = 'https://app.qwoty.example';

/** Path of the OAuth callback on the Qwoty server. */
export const OAUTH_CALLBACK_PATH = '/oauth/salesforce/callback';

/**
 * Returns the origin of url when it is an https URL without path, query,
 * fragment or credentials; throws an Error saying what is wrong otherwise.
 */
export function normalizeBaseUrl(url, flag) {
    let parsed;
    try {
        parsed = new URL(url);
    } catch {
        throw new Error(`${flag} ${JSON.stringify(url)} is not a URL (expected e.g. https://quotes.example.com)`);
    }
    if (parsed.protocol !== 'https:') {
        throw new Error(
            `${flag} must use https (Salesforce only calls and frames https URLs), got ${JSON.stringify(url)}`
        );
    }
    if (parsed.username || parsed.password) {
        throw new Error(`${flag} must not contain credentials, got ${JSON.stringify(url)}`);
    }
    if (parsed.pathname !== '/' || parsed.search || parsed.hash || /\/\/[^/]+\/./.test(url)) {
        throw new Error(`${flag} must be a bare origin without path, query or fragment, got ${JSON.stringify(url)}`);
    }
    return parsed.origin;
}
