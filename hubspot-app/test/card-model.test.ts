import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import {
    ago,
    appOrigin,
    buildCardUrl,
    CARD_PATH,
    describeProblem,
    fetchFailure,
    formatAmount,
    interpretResponse,
    isExpired,
    KNOWN_PROBLEM_CODES,
    parseCardAnswer,
    retryDelayMs,
    statusTag,
    syncLine,
    type LoadResult,
    type QuoteSync
} from '../src/app/cards/card-model';
import { APP, EMBED, answer, quote, qwotyError } from './fixtures';

function problemOf(result: LoadResult) {
    assert.equal(result.ok, false, `expected a problem, got ${JSON.stringify(result)}`);
    return (result as Extract<LoadResult, { ok: false }>).problem;
}

describe('buildCardUrl', () => {
    test('puts the deal on the card path of the app URL', () => {
        const url = new URL(buildCardUrl(APP, { objectId: 1234567890, objectTypeId: '0-3' }));
        assert.equal(url.origin, APP);
        assert.equal(url.pathname, CARD_PATH);
        assert.deepEqual([...url.searchParams], [
            ['associatedObjectId', '1234567890'],
            ['associatedObjectType', 'DEAL']
        ]);
    });

    test('never sends the account or user: HubSpot adds and signs those', () => {
        const url = new URL(buildCardUrl(APP, { objectId: '42' }));
        for (const name of ['portalId', 'userId', 'userEmail']) {
            assert.equal(url.searchParams.has(name), false, `${name} must come from HubSpot`);
        }
    });

    test('refuses a record that is not a deal or has no id', () => {
        assert.throws(() => buildCardUrl(APP, { objectId: 42, objectTypeId: '0-1' }), /for deals/);
        assert.throws(() => buildCardUrl(APP, { objectId: undefined }), /not a HubSpot object id/);
        assert.throws(() => buildCardUrl(APP, { objectId: '42&portalId=1' }), /not a HubSpot object id/);
    });

    test('refuses an app URL that is not a bare https origin', () => {
        assert.throws(() => buildCardUrl('http://quotes.example.com', { objectId: 1 }), /https/);
        assert.throws(() => buildCardUrl(`${APP}/qwoty`, { objectId: 1 }), /bare origin/);
        assert.throws(() => appOrigin('not a url'), /not a URL/);
        assert.equal(appOrigin(`${APP}/`), APP);
    });
});

describe('parseCardAnswer', () => {
    test('reads the answer into rows with labels and amounts', () => {
        const data = parseCardAnswer(answer(), APP);
        assert.equal(data.embedUrl, EMBED);
        assert.equal(data.recordId, '1234567890');
        assert.equal(data.expiresAtMs, Date.parse('2026-11-22T10:05:00Z'));
        assert.equal(data.quotes.length, 2);
        assert.deepEqual(
            data.quotes.map((q) => [q.number, q.title, q.statusLabel, q.statusVariant, q.amount]),
            [
                ['Q-00042', 'Acme - 200 licences', 'Draft', 'default', '1,234.50 USD'],
                ['Q-00041', '', 'Accepted', 'success', '1,500 JPY']
            ]
        );
    });

    test("reads the primary flag and each quote's sync", () => {
        const [first, second] = parseCardAnswer(answer(), APP).quotes;
        assert.equal(first.primary, true);
        assert.deepEqual(first.sync, { state: 'synced', atMs: Date.parse('2026-11-22T09:58:14.1032Z'), code: '', message: '' });
        assert.equal(second.primary, false);
        assert.deepEqual(second.sync, {
            state: 'failed',
            atMs: Date.parse('2026-11-21T15:40:02Z'),
            code: 'sync_rejected',
            message: 'PROPERTY_DOESNT_EXIST: Property "qwoty_ref" does not exist'
        });
    });

    test('reads an answer from before sync, or odd sync values, as nothing to show', () => {
        const none = { state: '', atMs: 0, code: '', message: '' };
        const old = quote();
        delete old.primary;
        delete old.sync;
        const odd = [
            old,
            quote({ primary: 'yes', sync: 'synced' }),
            quote({ primary: 1, sync: null }),
            quote({ primary: null, sync: { state: 7, at: 'yesterday', code: null } })
        ];
        for (const q of parseCardAnswer(answer({ quotes: odd }), APP).quotes) {
            assert.equal(q.primary, false);
            assert.deepEqual(q.sync, none);
        }
    });

    test('accepts an empty list', () => {
        assert.deepEqual(parseCardAnswer(answer({ quotes: [] }), APP).quotes, []);
    });

    const broken: Array<[string, Record<string, unknown>, RegExp]> = [
        ['no embedUrl', { embedUrl: undefined }, /embedUrl is missing/],
        ['embedUrl on another host', { embedUrl: 'https://evil.example/embed' }, /embedUrl is on https:\/\/evil\.example/],
        ['bad expiry', { expiresAt: 'soon' }, /expiresAt is not a date/],
        ['no record', { record: null }, /record is missing/],
        ['no quotes', { quotes: {} }, /quotes is not a list/],
        ['total with a symbol', { quotes: [quote({ total: '$12' })] }, /quotes\[0\]\.total/],
        ['lowercase currency', { quotes: [quote({ currency: 'usd' })] }, /quotes\[0\]\.currency/],
        ['quote url elsewhere', { quotes: [quote({ url: 'https://evil.example/x' })] }, /quotes\[0\]\.url is on/],
        ['quote without number', { quotes: [quote(), quote({ number: 7 })] }, /quotes\[1\]\.number/]
    ];
    for (const [name, overrides, message] of broken) {
        test(`names the field when ${name}`, () => {
            assert.throws(() => parseCardAnswer(answer(overrides), APP), message);
        });
    }
});

describe('formatAmount and statusTag', () => {
    test('groups thousands without touching the digits', () => {
        assert.equal(formatAmount('1234.50', 'USD'), '1,234.50 USD');
        assert.equal(formatAmount('1234567890123456789.99', 'EUR'), '1,234,567,890,123,456,789.99 EUR');
        assert.equal(formatAmount('-1000', 'JPY'), '-1,000 JPY');
        assert.equal(formatAmount('999', 'GBP'), '999 GBP');
        assert.equal(formatAmount('n/a', 'GBP'), 'n/a GBP');
    });

    test('gives every status of the contract a label and colour', () => {
        const expected = {
            draft: ['Draft', 'default'],
            sent: ['Sent', 'info'],
            viewed: ['Viewed', 'info'],
            accepted: ['Accepted', 'success'],
            rejected: ['Rejected', 'danger'],
            expired: ['Expired', 'warning']
        };
        for (const [status, [label, variant]] of Object.entries(expected)) {
            assert.deepEqual(statusTag(status), { label, variant }, status);
        }
        assert.deepEqual(statusTag('archived'), { label: 'archived', variant: 'default' });
    });
});

describe('syncLine', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    const sync = (s: Partial<QuoteSync>): QuoteSync => ({ state: '', atMs: 0, code: '', message: '', ...s });
    const cases: Array<[string, Partial<QuoteSync>, string | null, string]> = [
        ['synced', { state: 'synced', atMs: now - 130_000 }, 'synced', 'Synced to HubSpot 2 min ago'],
        ['synced, time unknown', { state: 'synced' }, 'synced', 'Synced to HubSpot'],
        ['pending', { state: 'pending' }, 'pending', 'Syncing…'],
        ['rate limited', { state: 'pending', code: 'rate_limited' }, 'pending', 'Syncing…'],
        ['retrying', { state: 'pending', code: 'sync_failed', message: '502' }, 'pending', 'Syncing… (trying again after an error)'],
        ['failed', { state: 'failed', code: 'sync_rejected', message: 'Deal not found' }, 'failed', 'Sync failed: Deal not found'],
        ['failed, no message', { state: 'failed', code: 'sync_failed' }, 'failed', 'Sync failed: HubSpot gave no reason'],
        ['made before sync', { state: 'pending', code: 'sync_reconnect', message: 'lacks write scopes' }, 'waiting', 'Waiting: reconnect to enable sync'],
        ['connection in error', { state: 'pending', code: 'refresh_rejected' }, 'waiting', 'Waiting: HubSpot must be reconnected'],
        ['never bound for the CRM', {}, null, ''],
        ['a state this card does not know', { state: 'archived' }, null, '']
    ];
    for (const [name, s, kind, text] of cases) {
        test(`words ${name} as the Qwoty card does`, () => {
            assert.deepEqual(syncLine(sync(s), now), kind === null ? null : { kind, text });
        });
    }

    test('says how long ago, like the Qwoty card', () => {
        const at = (ms: number) => ago(now, now - ms);
        assert.deepEqual(
            [at(-5_000), at(59_999), at(60_000), at(59 * 60_000 + 59_999), at(3_600_000), at(23.9 * 3_600_000)],
            [' just now', ' just now', ' 1 min ago', ' 59 min ago', ' 1 h ago', ' 23 h ago']
        );
        assert.deepEqual([at(24 * 3_600_000), at(47 * 3_600_000), at(48 * 3_600_000), at(29.9 * 86_400_000)], [
            ' yesterday',
            ' yesterday',
            ' 2 days ago',
            ' 29 days ago'
        ]);
        assert.equal(ago(now, Date.parse('2026-01-02T03:04:05Z')), ' on 2 Jan 2026');
        assert.equal(ago(now, 0), '');
    });
});

describe('isExpired', () => {
    const at = Date.parse('2026-11-22T10:05:00Z');
    test('is false well before the expiry and true within the margin or after', () => {
        assert.equal(isExpired(at, at - 60_000, 20_000), false);
        assert.equal(isExpired(at, at - 10_000, 20_000), true);
        assert.equal(isExpired(at, at + 1, 0), true);
    });
});

describe('describeProblem', () => {
    test('has a message and a fix for each code the card expects', () => {
        for (const code of [
            'signature_missing',
            'signature_invalid',
            'timestamp_out_of_range',
            'org_not_connected',
            'internal'
        ]) {
            assert.ok(KNOWN_PROBLEM_CODES.includes(code), `${code} has no entry`);
            const p = describeProblem(code);
            assert.ok(p.title && p.message && p.fix, `${code} lacks a title, message or fix`);
            assert.notEqual(p.title, describeProblem('some_new_code').title, `${code} falls back to the generic text`);
        }
    });

    test('tells an unconnected portal where to connect', () => {
        assert.equal(describeProblem('org_not_connected').fix, 'Connect HubSpot in Qwoty → Settings → Integrations.');
    });

    test('keeps the request id, and the server message as a detail', () => {
        const p = describeProblem('internal', { message: 'database unavailable', requestId: 'req-42', status: 500 });
        assert.equal(p.requestId, 'req-42');
        assert.equal(p.detail, 'database unavailable');
        assert.equal(p.status, 500);
        assert.match(p.fix, /request id/);
    });

    test("shows Qwoty's message and hint for a code it does not know", () => {
        const p = describeProblem('quota_exceeded', { message: 'Too many quotes', hint: 'Upgrade the plan' });
        assert.equal(p.code, 'quota_exceeded');
        assert.equal(p.message, 'Too many quotes');
        assert.equal(p.fix, 'Upgrade the plan');
    });
});

describe('interpretResponse', () => {
    test('reads a 200 answer', () => {
        const result = interpretResponse(200, JSON.stringify(answer()), APP);
        assert.equal(result.ok, true);
        assert.equal(result.ok && result.data.quotes[0].number, 'Q-00042');
    });

    const codes: Array<[number, string]> = [
        [401, 'signature_missing'],
        [401, 'signature_invalid'],
        [401, 'timestamp_out_of_range'],
        [404, 'org_not_connected'],
        [500, 'internal']
    ];
    for (const [status, code] of codes) {
        test(`turns ${status} ${code} into its problem`, () => {
            const p = problemOf(interpretResponse(status, qwotyError(code), APP));
            assert.equal(p.code, code);
            assert.equal(p.title, describeProblem(code).title);
            assert.equal(p.requestId, 'req-1d9824c1700bd9ed');
            assert.equal(p.status, status);
        });
    }

    test("finds Qwoty's error inside a proxy envelope, whatever the status", () => {
        const envelope = JSON.stringify({
            status: 'error',
            message: 'Error returned from Request Uri',
            category: 'BAD_GATEWAY',
            responseBody: JSON.parse(qwotyError('org_not_connected'))
        });
        assert.equal(problemOf(interpretResponse(200, envelope, APP)).code, 'org_not_connected');
        const asText = JSON.stringify({ status: 'error', responseBody: qwotyError('signature_invalid') });
        assert.equal(problemOf(interpretResponse(502, asText, APP)).code, 'signature_invalid');
    });

    test('says Qwoty is unreachable for a proxy error without its answer', () => {
        const p = problemOf(interpretResponse(200, JSON.stringify({ status: 'error', message: 'Gateway took too long' }), APP));
        assert.equal(p.code, 'unreachable');
        assert.match(p.detail ?? '', /Gateway took too long/);
        assert.equal(problemOf(interpretResponse(429, 'Too Many Requests', APP)).code, 'unreachable');
    });

    test('reports an unreadable 200 answer and names the field', () => {
        assert.equal(problemOf(interpretResponse(200, '<html>', APP)).code, 'bad_answer');
        const p = problemOf(interpretResponse(200, JSON.stringify(answer({ embedUrl: 'https://evil.example/' })), APP));
        assert.equal(p.code, 'bad_answer');
        assert.match(p.detail ?? '', /embedUrl/);
    });

    test('reports another HTTP error with its status', () => {
        const p = problemOf(interpretResponse(403, 'Forbidden', APP));
        assert.equal(p.code, 'http_error');
        assert.equal(p.status, 403);
        assert.match(p.detail ?? '', /HTTP 403/);
    });

    test('says when to retry a 503 unavailable, from Retry-After within 1 to 5 seconds', () => {
        const p = problemOf(interpretResponse(503, qwotyError('unavailable'), APP, '3'));
        assert.equal(p.code, 'unavailable');
        assert.equal(p.title, 'Qwoty is temporarily unavailable');
        assert.equal(p.retryInMs, 3000);
        assert.equal(p.hint, 'hint of unavailable');
        assert.equal(problemOf(interpretResponse(503, qwotyError('unavailable'), APP)).retryInMs, 2000);
        assert.deepEqual(
            ['0', '2', '60', 'Wed, 21 Oct 2026 07:28:00 GMT', '', null].map(retryDelayMs),
            [1000, 2000, 5000, 2000, 2000, 2000]
        );
        // Only Qwoty's unavailable is retried by itself: not its other
        // errors, nor a proxy's 503 without Qwoty's answer.
        assert.equal(problemOf(interpretResponse(500, qwotyError('internal'), APP, '2')).retryInMs, undefined);
        const proxy = problemOf(interpretResponse(503, 'Service Unavailable', APP, '2'));
        assert.equal(proxy.code, 'unreachable');
        assert.equal(proxy.retryInMs, undefined);
    });

    test('turns a failed hubspot.fetch into unreachable', () => {
        const p = problemOf(fetchFailure(new Error('Request timed out')));
        assert.equal(p.code, 'unreachable');
        assert.equal(p.detail, 'Request timed out');
    });
});
