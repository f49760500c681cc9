// Scheme v1 of the Qwoty signed callout (contracts.md, section 1), as the
// Apex QwotySigner computes it. Used to check the shared signing vectors.
import { createHmac } from 'node:crypto';

export const SCHEME = 'v1';

/** The exact string that is signed. */
export function canonicalMessage({ timestamp, nonce, orgId, method, path, body }) {
    return [SCHEME, timestamp, nonce, orgId, method, path, body].join('\n');
}

/** "v1=" + lowercase hex HMAC-SHA256 of message, keyed with the UTF-8 secret. */
export function sign(secret, message) {
    const mac = createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(message, 'utf8'));
    return `${SCHEME}=${mac.digest('hex')}`;
}

const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * The 3-character suffix that turns a 15-character Salesforce id into its
 * case-insensitive 18-character form: for each 5-character chunk, bit i is set
 * when character i is an uppercase letter.
 */
export function idChecksum(id15) {
    if (!/^[A-Za-z0-9]{15}$/.test(id15)) {
        throw new Error(`not a 15-character Salesforce id: ${JSON.stringify(id15)}`);
    }
    let suffix = '';
    for (let chunk = 0; chunk < 3; chunk++) {
        let bits = 0;
        for (let i = 0; i < 5; i++) {
            const c = id15[chunk * 5 + i];
            if (c >= 'A' && c <= 'Z') {
                bits |= 1 << i;
            }
        }
        suffix += CHECKSUM_ALPHABET[bits];
    }
    return suffix;
}

/** Whether id is an 18-character Salesforce id with a correct suffix. */
export function isValidId18(id) {
    return typeof id === 'string' && /^[A-Za-z0-9]{18}$/.test(id) && idChecksum(id.slice(0, 15)) === id.slice(15);
}
