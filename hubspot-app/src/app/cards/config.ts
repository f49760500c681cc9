// The Qwoty server this card talks to. The sources carry a placeholder;
// scripts/retarget.mjs writes the real URL into a build copy (here and in
// app-hsmeta.json) so that the card, permittedUrls and the OAuth redirect URL
// always name the same server.
export const APP_URL = 'https://app.qwoty.example';
