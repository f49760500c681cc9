// Pure logic of the Qwoty card: the request URL, reading Qwoty's answer into
// what the card shows, and the message and fix for every error. No React and
// no HubSpot runtime here, so all of it is unit-tested offline.

/** Path of the card endpoint on the Qwoty server (contracts.md, section 2). */
export const CARD_PATH = '/api/crm/hubspot/card';

/** HubSpot's object type id of deals, as in the extension context. */
export const DEAL_OBJECT_TYPE_ID = '0-3';

/** Value of associatedObjectType for deals, as HubSpot names it. */
export const DEAL_OBJECT_TYPE = 'DEAL';

/** Open the iframe again after refreshing when the embed token has less left than this. */
export const EXPIRY_MARGIN_MS = 20_000;

/**
 * Bounds of the wait before the one automatic retry of an `unavailable`
 * answer (Qwoty's database was briefly unreachable): Qwoty's Retry-After,
 * kept between these, or the default when it sends none.
 */
export const RETRY_MIN_MS = 1_000;
export const RETRY_MAX_MS = 5_000;
export const RETRY_DEFAULT_MS = 2_000;

export type StatusVariant = 'default' | 'info' | 'success' | 'warning' | 'danger';

export interface QuoteRow {
    id: string;
    number: string;
    title: string;
    status: string;
    statusLabel: string;
    statusVariant: StatusVariant;
    total: string;
    currency: string;
    /** total and currency for display, e.g. "1,234.50 USD". */
    amount: string;
    updatedAt: string;
    url: string;
    /** The deal's primary quote: its total, status and lines are what sync writes to the deal. */
    primary: boolean;
    /** Where the quote stands with HubSpot, as Qwoty's answer says. */
    sync: QuoteSync;
}

/**
 * A quote's `sync` in Qwoty's answer (docs/callout-contract.md): state
 * `synced`, `pending`, `failed` or `""` (never bound for the CRM); when it
 * was last pushed (atMs 0 when never); why it failed or waits.
 */
export interface QuoteSync {
    state: string;
    /** `at` in milliseconds since the epoch, 0 when absent. */
    atMs: number;
    code: string;
    message: string;
}

export type SyncKind = 'synced' | 'pending' | 'failed' | 'waiting';

/** A quote's sync state as the card words it, in one line. */
export interface SyncLine {
    kind: SyncKind;
    text: string;
}

export interface CardData {
    embedUrl: string;
    expiresAt: string;
    /** expiresAt in milliseconds since the epoch. */
    expiresAtMs: number;
    recordId: string;
    quotes: QuoteRow[];
}

export interface CardProblem {
    /** Qwoty's error code, or one of the card's own: unreachable, bad_answer, no_record, http_error. */
    code: string;
    title: string;
    /** What happened, in the user's words. */
    message: string;
    /** What to do about it. */
    fix: string;
    /** Qwoty's own message, shown as a detail when it adds something. */
    detail?: string;
    /** Qwoty's hint, shown when it is not already the fix. */
    hint?: string;
    /** Set when the card retries once by itself after this many milliseconds. */
    retryInMs?: number;
    requestId?: string;
    /** HTTP status of the answer, when there was one. */
    status?: number;
}

export type LoadResult = { ok: true; data: CardData } | { ok: false; problem: CardProblem };

/** Record context the card sends along (HubSpot adds userId, portalId and userEmail itself). */
export interface RecordRef {
    objectId: number | string | undefined | null;
    objectTypeId?: string;
}

/**
 * Returns the URL the card passes to hubspot.fetch. HubSpot appends the
 * account and user (portalId, userId, userEmail) and signs the whole URI it
 * sends; the record is not part of what it appends, so the card adds it, named
 * as HubSpot names it elsewhere. Throws when the app URL or the record id is
 * not usable.
 */
export function buildCardUrl(appUrl: string, record: RecordRef): string {
    const origin = appOrigin(appUrl);
    const id = record.objectId === undefined || record.objectId === null ? '' : String(record.objectId).trim();
    if (!/^[0-9]+$/.test(id)) {
        throw new Error(`the record id ${JSON.stringify(id)} is not a HubSpot object id`);
    }
    if (record.objectTypeId !== undefined && record.objectTypeId !== DEAL_OBJECT_TYPE_ID) {
        throw new Error(`the card is for deals (${DEAL_OBJECT_TYPE_ID}), not object type ${record.objectTypeId}`);
    }
    const query = new URLSearchParams({ associatedObjectId: id, associatedObjectType: DEAL_OBJECT_TYPE });
    return `${origin}${CARD_PATH}?${query.toString()}`;
}

/** Returns the origin of an https app URL given without path, query or fragment. */
export function appOrigin(appUrl: string): string {
    let url: URL;
    try {
        url = new URL(appUrl);
    } catch {
        throw new Error(`the app URL ${JSON.stringify(appUrl)} is not a URL`);
    }
    if (url.protocol !== 'https:') {
        throw new Error(`the app URL ${JSON.stringify(appUrl)} must use https`);
    }
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
        throw new Error(`the app URL ${JSON.stringify(appUrl)} must be a bare origin`);
    }
    return url.origin;
}

const STATUS_TAGS: Record<string, { label: string; variant: StatusVariant }> = {
    draft: { label: 'Draft', variant: 'default' },
    sent: { label: 'Sent', variant: 'info' },
    viewed: { label: 'Viewed', variant: 'info' },
    accepted: { label: 'Accepted', variant: 'success' },
    rejected: { label: 'Rejected', variant: 'danger' },
    expired: { label: 'Expired', variant: 'warning' }
};

/** Label and tag colour of a quote status; an unknown status is shown as it is, in the neutral colour. */
export function statusTag(status: string): { label: string; variant: StatusVariant } {
    return STATUS_TAGS[status] ?? { label: status, variant: 'default' };
}

/**
 * Formats a decimal string and a currency code, e.g. ("1234.50", "USD") →
 * "1,234.50 USD". Works on the string so that no digit is lost to floating
 * point; Qwoty already gives the currency's minor digits.
 */
export function formatAmount(total: string, currency: string): string {
    const match = /^(-?)([0-9]+)(\.[0-9]+)?$/.exec(total);
    if (!match) {
        return `${total} ${currency}`;
    }
    const [, sign, whole, fraction = ''] = match;
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return `${sign}${grouped}${fraction} ${currency}`;
}

/** The CRM this card is in, as the sync line names it. */
export const CRM_NAME = 'HubSpot';

/**
 * Connection codes a quote waits on until an admin connects the CRM again:
 * nothing a rep does helps (the Qwoty card reads them the same way).
 */
const WAITS_FOR_ADMIN = new Set(['refresh_rejected', 'no_oauth_token', 'org_disconnected', 'not_configured']);

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * " 2 min ago" (with its leading space), or "" for a time not known: the
 * Qwoty card's wording, read against nowMs.
 */
export function ago(nowMs: number, atMs: number): string {
    if (!(atMs > 0)) {
        return '';
    }
    const d = nowMs - atMs;
    if (d < MINUTE_MS) return ' just now';
    if (d < HOUR_MS) return ` ${Math.floor(d / MINUTE_MS)} min ago`;
    if (d < DAY_MS) return ` ${Math.floor(d / HOUR_MS)} h ago`;
    if (d < 2 * DAY_MS) return ' yesterday';
    if (d < 30 * DAY_MS) return ` ${Math.floor(d / DAY_MS)} days ago`;
    const at = new Date(atMs);
    return ` on ${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}`;
}

/**
 * The quote's sync line, as the Qwoty card says it: "Synced to HubSpot 2
 * min ago", "Syncing…", "Sync failed: <HubSpot's message>" (Retry is in
 * the quote's page, which has the session), "Waiting: reconnect to enable
 * sync" when an admin must reconnect. null for a quote never bound for the
 * CRM, or a state this card does not know.
 */
export function syncLine(sync: QuoteSync, nowMs: number, crm: string = CRM_NAME): SyncLine | null {
    switch (sync.state) {
        case 'synced':
            return { kind: 'synced', text: `Synced to ${crm}${ago(nowMs, sync.atMs)}` };
        case 'failed':
            return { kind: 'failed', text: `Sync failed: ${sync.message || `${crm} gave no reason`}` };
        case 'pending':
            if (sync.code === 'sync_reconnect') {
                return { kind: 'waiting', text: 'Waiting: reconnect to enable sync' };
            }
            if (WAITS_FOR_ADMIN.has(sync.code)) {
                return { kind: 'waiting', text: `Waiting: ${crm} must be reconnected` };
            }
            if (sync.code === 'sync_failed') {
                return { kind: 'pending', text: 'Syncing… (trying again after an error)' };
            }
            return { kind: 'pending', text: 'Syncing…' };
        default:
            return null;
    }
}

/**
 * Reads a quote's `sync`. It came with sync (issue 13), so an older
 * server's answer has none, and it only says what to show: anything
 * missing or malformed reads as "nothing to show" rather than failing the
 * card.
 */
function readSync(v: unknown): QuoteSync {
    if (!isObject(v)) {
        return { state: '', atMs: 0, code: '', message: '' };
    }
    const text = (x: unknown) => (typeof x === 'string' ? x : '');
    const atMs = Date.parse(text(v.at));
    return { state: text(v.state), atMs: Number.isNaN(atMs) ? 0 : atMs, code: text(v.code), message: text(v.message) };
}

/** True when the embed token expires within marginMs of nowMs. */
export function isExpired(expiresAtMs: number, nowMs: number, marginMs: number = EXPIRY_MARGIN_MS): boolean {
    return !(expiresAtMs - marginMs > nowMs);
}

class AnswerError extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requireString(obj: Record<string, unknown>, key: string, path: string, allowEmpty = false): string {
    const v = obj[key];
    if (typeof v !== 'string' || (!allowEmpty && v.trim() === '')) {
        throw new AnswerError(`${path}${key} is missing or not a string`);
    }
    return v;
}

function requireSameOrigin(value: string, origin: string, what: string): string {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new AnswerError(`${what} is not a URL`);
    }
    if (url.origin !== origin) {
        throw new AnswerError(`${what} is on ${url.origin}, not on ${origin} (the only address HubSpot lets the card frame)`);
    }
    return value;
}

/**
 * Reads a 200 answer of the card endpoint into the card's data. Throws an
 * Error naming the first field that is wrong. URLs must be on the app's
 * origin: HubSpot only frames the URLs listed in permittedUrls.iframe.
 */
export function parseCardAnswer(body: unknown, appUrl: string): CardData {
    const origin = appOrigin(appUrl);
    if (!isObject(body)) {
        throw new AnswerError('the answer is not a JSON object');
    }
    const embedUrl = requireSameOrigin(requireString(body, 'embedUrl', ''), origin, 'embedUrl');
    const expiresAt = requireString(body, 'expiresAt', '');
    const expiresAtMs = Date.parse(expiresAt);
    if (Number.isNaN(expiresAtMs)) {
        throw new AnswerError('expiresAt is not a date');
    }
    if (!isObject(body.record)) {
        throw new AnswerError('record is missing');
    }
    const recordId = requireString(body.record, 'id', 'record.');
    if (!Array.isArray(body.quotes)) {
        throw new AnswerError('quotes is not a list');
    }
    const quotes = body.quotes.map((q: unknown, i: number): QuoteRow => {
        const path = `quotes[${i}].`;
        if (!isObject(q)) {
            throw new AnswerError(`quotes[${i}] is not an object`);
        }
        const total = requireString(q, 'total', path);
        if (!/^-?[0-9]+(\.[0-9]+)?$/.test(total)) {
            throw new AnswerError(`${path}total ${JSON.stringify(total)} is not a decimal number`);
        }
        const currency = requireString(q, 'currency', path);
        if (!/^[A-Z]{3}$/.test(currency)) {
            throw new AnswerError(`${path}currency ${JSON.stringify(currency)} is not an ISO 4217 code`);
        }
        const status = requireString(q, 'status', path);
        const tag = statusTag(status);
        return {
            id: requireString(q, 'id', path),
            number: requireString(q, 'number', path),
            title: q.title === undefined || q.title === null ? '' : requireString(q, 'title', path, true),
            status,
            statusLabel: tag.label,
            statusVariant: tag.variant,
            total,
            currency,
            amount: formatAmount(total, currency),
            updatedAt: typeof q.updatedAt === 'string' ? q.updatedAt : '',
            url: requireSameOrigin(requireString(q, 'url', path), origin, `${path}url`),
            primary: q.primary === true,
            sync: readSync(q.sync)
        };
    });
    return { embedUrl, expiresAt, expiresAtMs, recordId, quotes };
}

interface ProblemText {
    title: string;
    message: string;
    fix: string;
}

// BEGIN generated from the error catalogue (qwoty/catalogue_texts.go) by make generate: edit the catalogue, not this table.
/** Qwoty's error codes that the card explains in its own words. */
const SERVER_PROBLEMS: Record<string, ProblemText> = {
    bad_request: {
        title: 'Qwoty rejected the request as malformed',
        message: 'Something in the request is missing or malformed.',
        fix: 'Reload the page. If it repeats, the HubSpot app and the Qwoty server may be of different versions: ask your Qwoty operator to upload the app again.'
    },
    signature_missing: {
        title: "HubSpot's signature is missing",
        message: 'Qwoty received the request without the signature HubSpot adds to it.',
        fix: 'Make sure nothing between HubSpot and Qwoty (a proxy or firewall) removes the X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp headers, then try again.'
    },
    signature_invalid: {
        title: "HubSpot's signature does not match",
        message: 'Qwoty could not verify that this request comes from the Qwoty HubSpot app.',
        fix: "The Qwoty server's HUBSPOT_CLIENT_SECRET must be the client secret of this HubSpot app (the app's Auth page in HubSpot). Ask your Qwoty operator to check it and that no proxy rewrites the request URL."
    },
    timestamp_out_of_range: {
        title: "Clocks don't agree",
        message: "The request was signed more than 5 minutes away from the Qwoty server's clock, so Qwoty refused it.",
        fix: "Try again. If it keeps happening, ask your Qwoty operator to synchronise the server's clock (NTP)."
    },
    replayed_request: {
        title: 'Qwoty received the same signed request twice',
        message: 'Qwoty had already accepted this exact request, and each signed request is accepted once.',
        fix: 'Try again: each attempt is signed anew. If it keeps happening, something between the CRM and Qwoty is resending requests.'
    },
    org_not_connected: {
        title: 'HubSpot is not connected to Qwoty',
        message: 'This HubSpot account (portal) has no Qwoty connection yet.',
        fix: 'Connect HubSpot in Qwoty → Settings → Integrations.'
    },
    org_disconnected: {
        title: 'The HubSpot connection is disconnected',
        message: 'A Qwoty admin disconnected this HubSpot account; its quotes are kept.',
        fix: 'Reconnect HubSpot in Qwoty → Settings → Integrations.'
    },
    internal: {
        title: 'Qwoty had a problem',
        message: 'Something went wrong on our side.',
        fix: 'Try again in a moment. If it persists, send the request id below to Qwoty support: it finds the error in the logs.'
    },
    unavailable: {
        title: 'Qwoty is temporarily unavailable',
        message: 'The Qwoty server could not reach its database for a moment.',
        fix: 'The card already tried again once. Try again in a few seconds; if it keeps failing, ask your Qwoty operator to check the Qwoty server and its database (PostgreSQL).'
    }
};
// END generated from the error catalogue.

/** The card's own problems, met before or instead of an answer from Qwoty. */
const CARD_PROBLEMS: Record<string, ProblemText> = {
    unreachable: {
        title: 'Qwoty could not be reached',
        message: 'HubSpot could not get an answer from the Qwoty server.',
        fix: "Try again in a moment. If it keeps failing, ask your Qwoty operator to check that the server is up and that the HubSpot app was uploaded for this server's address."
    },
    bad_answer: {
        title: "Qwoty's answer could not be read",
        message: 'The Qwoty server answered, but not in the shape this card expects.',
        fix: 'Ask your Qwoty operator to upload the HubSpot app for this server again; the card and the server may be of different versions.'
    },
    no_record: {
        title: 'No deal to show',
        message: 'HubSpot did not tell the card which deal is open.',
        fix: 'Reload the page. The card only works on deal records.'
    },
    http_error: {
        title: 'Qwoty answered with an error',
        message: 'The Qwoty server refused the request.',
        fix: 'Try again. If it keeps failing, give your Qwoty operator the details below.'
    }
};

const PROBLEMS: Record<string, ProblemText> = { ...SERVER_PROBLEMS, ...CARD_PROBLEMS };

/** The card's codes and Qwoty's that have their own message. */
export const KNOWN_PROBLEM_CODES = Object.freeze(Object.keys(PROBLEMS));

/** Message and fix of an error code; an unknown code keeps Qwoty's message and hint. */
export function describeProblem(
    code: string,
    extra: { message?: string; hint?: string; requestId?: string; status?: number; detail?: string } = {}
): CardProblem {
    const known = PROBLEMS[code];
    const base: ProblemText = known ?? {
        title: 'Qwoty answered with an error',
        message: extra.message || `Qwoty answered with error ${code}.`,
        fix: extra.hint || 'Try again. If it keeps failing, give your Qwoty operator the request id below.'
    };
    const problem: CardProblem = { code, ...base };
    const detail = extra.detail ?? (known ? extra.message : undefined);
    if (detail && detail !== base.message) {
        problem.detail = detail;
    }
    if (extra.hint && extra.hint !== base.fix) {
        problem.hint = extra.hint;
    }
    if (extra.requestId) {
        problem.requestId = extra.requestId;
    }
    if (extra.status !== undefined) {
        problem.status = extra.status;
    }
    return problem;
}

/** Returns Qwoty's error object ({code, message, hint, requestId}) if body is, or wraps, one. */
function qwotyError(body: unknown): { code: string; message?: string; hint?: string; requestId?: string } | null {
    const candidates: unknown[] = [body];
    // HubSpot's proxy may hand the card an envelope whose responseBody is the server's answer.
    if (isObject(body) && 'responseBody' in body) {
        candidates.push(body.responseBody);
        if (typeof body.responseBody === 'string') {
            try {
                candidates.push(JSON.parse(body.responseBody));
            } catch {
                // not JSON: nothing more to read
            }
        }
    }
    for (const c of candidates) {
        if (isObject(c) && isObject(c.error) && typeof c.error.code === 'string' && c.error.code !== '') {
            const e = c.error;
            return {
                code: e.code as string,
                message: typeof e.message === 'string' ? e.message : undefined,
                hint: typeof e.hint === 'string' ? e.hint : undefined,
                requestId: typeof e.requestId === 'string' ? e.requestId : undefined
            };
        }
    }
    return null;
}

/** Statuses that say HubSpot's proxy did not get an answer from Qwoty. */
const UNREACHABLE_STATUSES = new Set([429, 502, 503, 504]);

/**
 * The wait before retrying, from a Retry-After header in seconds (an HTTP
 * date or nothing gives the default), kept within RETRY_MIN_MS and
 * RETRY_MAX_MS so the card neither hammers Qwoty nor hangs.
 */
export function retryDelayMs(retryAfter: string | null | undefined): number {
    const value = (retryAfter ?? '').trim();
    if (!/^[0-9]+$/.test(value)) {
        return RETRY_DEFAULT_MS;
    }
    return Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, Number(value) * 1000));
}

/**
 * Turns what hubspot.fetch returned (status, body text and Retry-After) into
 * the card's data or a problem. Qwoty's error shape wins wherever it appears,
 * because HubSpot's proxy may change the status of an error answer. An
 * `unavailable` problem says when to retry.
 */
export function interpretResponse(
    status: number,
    bodyText: string,
    appUrl: string,
    retryAfter?: string | null
): LoadResult {
    let body: unknown;
    let parsed = true;
    try {
        body = JSON.parse(bodyText);
    } catch {
        parsed = false;
    }
    const err = parsed ? qwotyError(body) : null;
    if (err) {
        const problem = describeProblem(err.code, { message: err.message, hint: err.hint, requestId: err.requestId, status });
        if (err.code === 'unavailable') {
            problem.retryInMs = retryDelayMs(retryAfter);
        }
        return { ok: false, problem };
    }
    const success = status >= 200 && status < 300;
    if (success && parsed && !(isObject(body) && body.status === 'error')) {
        try {
            return { ok: true, data: parseCardAnswer(body, appUrl) };
        } catch (e) {
            return { ok: false, problem: describeProblem('bad_answer', { detail: (e as Error).message, status }) };
        }
    }
    if (success && !parsed) {
        return { ok: false, problem: describeProblem('bad_answer', { detail: 'the answer is not JSON', status }) };
    }
    const proxyMessage = isObject(body) && typeof body.message === 'string' ? body.message : undefined;
    const detail = `HTTP ${status}${proxyMessage ? `: ${proxyMessage}` : ''}`;
    if (UNREACHABLE_STATUSES.has(status) || (isObject(body) && body.status === 'error')) {
        return { ok: false, problem: describeProblem('unreachable', { detail, status }) };
    }
    return { ok: false, problem: describeProblem('http_error', { detail, status }) };
}

/** The problem to show when hubspot.fetch itself failed (no answer, timeout, URL not permitted). */
export function fetchFailure(error: unknown): LoadResult {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, problem: describeProblem('unreachable', { detail }) };
}
