// Renders the card with HubSpot's own test renderer (@hubspot/ui-extensions/testing),
// which mocks the extension context and actions; hubspot.fetch is replaced by a fake.
import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { Button, EmptyState, ErrorState, LoadingSpinner, StatusTag, Table, TableRow, Tag, Text } from '@hubspot/ui-extensions';
import { QuotesCard, IFRAME_MODAL, type CardFetcher, type FetchAnswer } from '../src/app/cards/QuotesCardView';
import { APP, EMBED, answer, quote, qwotyError } from './fixtures';

const DEAL_ID = 987654321;
const BEFORE_EXPIRY = Date.parse('2026-11-22T10:00:00Z'); // 5 minutes before the fixtures' expiresAt
const AFTER_EXPIRY = Date.parse('2026-11-22T10:06:00Z');

function reply(status: number, body: string, headers: Record<string, string> = {}): FetchAnswer {
    return { status, text: async () => body, headers: { get: (name) => headers[name] ?? null } };
}

/** A wait the test ends by hand, recording each wait asked for. */
function manualWait() {
    const asked: number[] = [];
    let release: () => void = () => {};
    const wait = (ms: number) => {
        asked.push(ms);
        return new Promise<void>((resolve) => (release = resolve));
    };
    return { wait, asked, release: () => release() };
}

/** A fake hubspot.fetch answering from a queue, recording each call. */
function fakeFetch(...answers: Array<FetchAnswer | Error>) {
    const calls: Array<{ url: string; options: { method: 'GET' } }> = [];
    const fetcher: CardFetcher = async (url, options) => {
        calls.push({ url, options });
        const next = answers.length > 1 ? answers.shift()! : answers[0];
        if (next instanceof Error) throw next;
        return next;
    };
    return { fetcher, calls };
}

/** Polls check until it passes (the renderer's waitFor only re-checks after a render). */
async function eventually(check: () => void, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            check();
            return;
        } catch (e) {
            if (Date.now() > deadline) throw e;
            await new Promise((resolve) => setTimeout(resolve, 5));
        }
    }
}

/**
 * Throws when node is null. Used in waitFor checks instead of a bare
 * assert.ok, whose failure message makes node re-read the test's source.
 */
function found(node: unknown, what: string): void {
    if (node === null || node === undefined) throw new Error(`${what} is not rendered`);
}

/** All the text under a rendered node, in order. */
function textOf(node: { nodeType: string; text?: string | null; childNodes?: unknown[] } | null): string {
    if (!node) return '';
    if (node.nodeType === 'text') return node.text ?? '';
    return (node.childNodes ?? []).map((c) => textOf(c as Parameters<typeof textOf>[0])).join('');
}

function setup(fetcher: CardFetcher, now = () => BEFORE_EXPIRY, wait?: (ms: number) => Promise<void>) {
    const r = createRenderer('crm.record.tab');
    r.mocks.context.crm.objectId = DEAL_ID;
    r.mocks.context.crm.objectTypeId = '0-3';
    r.render(<QuotesCard appUrl={APP} fetcher={fetcher} now={now} wait={wait} />);
    return r;
}

describe('QuotesCard', () => {
    test('shows a spinner, then calls hubspot.fetch once with GET for this deal', async () => {
        let release: (a: FetchAnswer) => void = () => {};
        const calls: string[] = [];
        const r = setup(async (url, options) => {
            calls.push(`${options.method} ${url}`);
            return new Promise<FetchAnswer>((resolve) => (release = resolve));
        });
        found(r.maybeFind(LoadingSpinner), 'the loading state');
        await eventually(() => assert.equal(calls.length, 1));
        assert.equal(calls[0], `GET ${APP}/api/crm/hubspot/card?associatedObjectId=${DEAL_ID}&associatedObjectType=DEAL`);
        release(reply(200, JSON.stringify(answer())));
        await r.waitFor(() => found(r.maybeFind(Table), 'Table'));
        assert.equal(r.maybeFind(LoadingSpinner), null);
    });

    test("lists the deal's quotes: number (Primary on the primary one), title and sync line, status, total with currency", async () => {
        const r = setup(fakeFetch(reply(200, JSON.stringify(answer()))).fetcher);
        await r.waitFor(() => found(r.maybeFind(Table), 'Table'));
        const rows = r.findAll(TableRow).slice(1); // the first row is the header
        assert.equal(rows.length, 2);
        assert.deepEqual(
            rows.map((row) => textOf(row)),
            [
                'Q-00042PrimaryAcme - 200 licencesSynced to HubSpot 1 min agoDraft1,234.50 USD',
                'Q-00041—Sync failed: PROPERTY_DOESNT_EXIST: Property "qwoty_ref" does not existAccepted1,500 JPY'
            ]
        );
        assert.deepEqual(
            r.findAll(StatusTag).map((t) => t.props.variant),
            ['default', 'success']
        );
    });

    test('tags the primary quote alone, and gives each quote its one-line sync state', async () => {
        const id = (n: number) => `5b7e1c0a-0000-4000-8000-00000000000${n}`;
        const q = (n: number, extra: Record<string, unknown>) =>
            quote({ id: id(n), number: `Q-0000${n}`, url: `${EMBED}&quote=${id(n)}`, primary: false, ...extra });
        const reason = 'PROPERTY_DOESNT_EXIST: Property "qwoty_ref" does not exist on object type deals';
        const quotes = [
            q(1, { primary: true, sync: { state: 'synced', at: '2026-11-22T09:57:50Z', code: '', message: '' } }),
            q(2, { sync: { state: 'pending', code: '', message: '' } }),
            q(3, { sync: { state: 'failed', at: '2026-11-22T09:00:00Z', code: 'sync_rejected', message: reason } }),
            q(4, { sync: { state: 'pending', code: 'sync_reconnect', message: 'this connection lacks the write scopes sync needs' } }),
            q(5, { sync: { state: '', code: '', message: '' } }),
            q(6, { sync: { state: 'archived', code: '', message: '' } })
        ];
        const r = setup(fakeFetch(reply(200, JSON.stringify(answer({ quotes })))).fetcher);
        await r.waitFor(() => found(r.maybeFind(Table), 'Table'));

        assert.deepEqual(
            r.findAll(Tag).map((t) => [t.props.testId, t.text]),
            [[`qwoty-primary-${id(1)}`, 'Primary']]
        );
        const lines = quotes.map((x) => r.maybeFind(Text, { testId: `qwoty-sync-${x.id}` }));
        assert.deepEqual(
            lines.map((l) => l?.text ?? null),
            [
                'Synced to HubSpot 2 min ago',
                'Syncing…',
                `Sync failed: ${reason}`,
                'Waiting: reconnect to enable sync',
                null, // never bound for HubSpot
                null // a state this card does not know
            ]
        );
        // One line each, the whole text in the tooltip; what needs someone stands out.
        for (const l of lines.slice(0, 4)) {
            assert.equal(l!.props.variant, 'microcopy');
            assert.deepEqual(l!.props.truncate, { tooltipText: l!.text });
        }
        assert.deepEqual(
            lines.slice(0, 4).map((l) => l!.props.format?.fontWeight ?? 'regular'),
            ['regular', 'regular', 'demibold', 'demibold']
        );
        // Retry needs the card's session: it is in the quote's page, not here.
        assert.equal(r.maybeFind(Button, { testId: `qwoty-retry-${id(3)}` }), null);
        assert.doesNotMatch(textOf(r.find(Table)), /Retry/);
    });

    test("shows an answer from before sync as it was: no Primary, no sync line", async () => {
        const old = answer();
        for (const q of old.quotes as Array<Record<string, unknown>>) {
            delete q.primary;
            delete q.sync;
        }
        const r = setup(fakeFetch(reply(200, JSON.stringify(old))).fetcher);
        await r.waitFor(() => found(r.maybeFind(Table), 'Table'));
        assert.deepEqual(
            r.findAll(TableRow).slice(1).map((row) => textOf(row)),
            ['Q-00042Acme - 200 licencesDraft1,234.50 USD', 'Q-00041—Accepted1,500 JPY']
        );
        assert.equal(r.maybeFind(Tag), null);
    });

    test('opens the embed URL in the iframe modal and reloads when it closes', async () => {
        const { fetcher, calls } = fakeFetch(reply(200, JSON.stringify(answer())));
        const r = setup(fetcher);
        await r.waitFor(() => found(r.maybeFind(Table), 'Table'));
        r.findByTestId(Button, 'qwoty-open').trigger('onClick');
        await eventually(() => assert.equal(r.mocks.actions.openIframeModal.calls.length, 1));
        const [payload, onClose] = r.mocks.actions.openIframeModal.calls[0];
        assert.deepEqual(payload, { uri: EMBED, ...IFRAME_MODAL });
        assert.equal(calls.length, 1);
        onClose!();
        await eventually(() => assert.equal(calls.length, 2));
    });

    test("opens a quote's own URL from its number", async () => {
        const r = setup(fakeFetch(reply(200, JSON.stringify(answer()))).fetcher);
        await r.waitFor(() => found(r.maybeFind(Table), 'Table'));
        r.findByTestId(Button, 'qwoty-quote-5b7e1c0a-0000-4000-8000-000000000001').trigger('onClick');
        await eventually(() => assert.equal(r.mocks.actions.openIframeModal.calls.length, 1));
        assert.equal(
            r.mocks.actions.openIframeModal.calls[0][0].uri,
            `${EMBED}&quote=5b7e1c0a-0000-4000-8000-000000000001`
        );
    });

    test('asks for a fresh embed URL when the token has expired', async () => {
        const fresh = `${APP}/embed/hubspot/card?token=fresh`;
        const { fetcher, calls } = fakeFetch(
            reply(200, JSON.stringify(answer())),
            reply(200, JSON.stringify(answer({ embedUrl: fresh, expiresAt: '2026-11-22T10:11:00Z' })))
        );
        const r = setup(fetcher, () => AFTER_EXPIRY);
        await r.waitFor(() => found(r.maybeFind(Table), 'Table'));
        r.findByTestId(Button, 'qwoty-open').trigger('onClick');
        await eventually(() => assert.equal(r.mocks.actions.openIframeModal.calls.length, 1));
        assert.equal(calls.length, 2);
        assert.equal(r.mocks.actions.openIframeModal.calls[0][0].uri, fresh);
    });

    test('shows the empty state with a button that opens Qwoty', async () => {
        const r = setup(fakeFetch(reply(200, JSON.stringify(answer({ quotes: [] })))).fetcher);
        await r.waitFor(() => found(r.maybeFind(EmptyState), 'EmptyState'));
        assert.equal(r.maybeFind(Table), null);
        r.findByTestId(Button, 'qwoty-open').trigger('onClick');
        await eventually(() => assert.equal(r.mocks.actions.openIframeModal.calls.length, 1));
        assert.equal(r.mocks.actions.openIframeModal.calls[0][0].uri, EMBED);
    });

    const errors: Array<[number, string, RegExp]> = [
        [401, 'signature_missing', /X-HubSpot-Signature-v3/],
        [401, 'signature_invalid', /HUBSPOT_CLIENT_SECRET/],
        [401, 'timestamp_out_of_range', /clock/],
        [404, 'org_not_connected', /Connect HubSpot in Qwoty → Settings → Integrations\./],
        [500, 'internal', /Request id: req-1d9824c1700bd9ed/]
    ];
    for (const [status, code, shown] of errors) {
        test(`explains ${code} and offers a retry`, async () => {
            const r = setup(fakeFetch(reply(status, qwotyError(code))).fetcher);
            await r.waitFor(() => found(r.maybeFind(ErrorState), 'ErrorState'));
            const state = r.find(ErrorState);
            assert.match(textOf(state), shown);
            assert.match(textOf(state), /Request id: req-1d9824c1700bd9ed/);
            assert.equal(r.findByTestId(Button, 'qwoty-retry').text, 'Try again');
            assert.equal(r.mocks.actions.openIframeModal.calls.length, 0);
        });
    }

    test('retries after a failure and then shows the quotes', async () => {
        const { fetcher, calls } = fakeFetch(new Error('Request timed out'), reply(200, JSON.stringify(answer())));
        const r = setup(fetcher);
        await r.waitFor(() => found(r.maybeFind(ErrorState), 'ErrorState'));
        assert.match(textOf(r.find(ErrorState)), /could not get an answer/);
        r.findByTestId(Button, 'qwoty-retry').trigger('onClick');
        await r.waitFor(() => found(r.maybeFind(Table), 'Table'));
        assert.equal(calls.length, 2);
        assert.equal(r.maybeFind(ErrorState), null);
    });

    test('says Qwoty is temporarily unavailable, retries once after Retry-After, then shows the quotes', async () => {
        const { fetcher, calls } = fakeFetch(
            reply(503, qwotyError('unavailable'), { 'Retry-After': '3' }),
            reply(200, JSON.stringify(answer()))
        );
        const w = manualWait();
        const r = setup(fetcher, () => BEFORE_EXPIRY, w.wait);
        await r.waitFor(() => found(r.maybeFind(LoadingSpinner, { testId: 'qwoty-waiting' }), 'the waiting state'));
        assert.equal(r.find(LoadingSpinner, { testId: 'qwoty-waiting' }).props.label, 'Qwoty is temporarily unavailable, retrying…');
        assert.deepEqual(w.asked, [3000]);
        assert.equal(calls.length, 1);
        w.release();
        await r.waitFor(() => found(r.maybeFind(Table), 'Table'));
        assert.equal(calls.length, 2);
        assert.equal(r.maybeFind(ErrorState), null);
    });

    test('shows unavailable with its hint when the one retry fails too', async () => {
        const { fetcher, calls } = fakeFetch(reply(503, qwotyError('unavailable')));
        const w = manualWait();
        const r = setup(fetcher, () => BEFORE_EXPIRY, w.wait);
        await eventually(() => assert.deepEqual(w.asked, [2000]));
        w.release();
        await r.waitFor(() => found(r.maybeFind(ErrorState), 'ErrorState'));
        const state = r.find(ErrorState);
        assert.equal(state.props.title, 'Qwoty is temporarily unavailable');
        assert.match(textOf(state), /Hint from Qwoty: hint of unavailable/);
        assert.match(textOf(state), /Request id: req-1d9824c1700bd9ed/);
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(calls.length, 2, 'one retry, no more');
        assert.deepEqual(w.asked, [2000]);
    });

    test('does not call Qwoty on a record that is not a deal', async () => {
        const { fetcher, calls } = fakeFetch(reply(200, JSON.stringify(answer())));
        const r = createRenderer('crm.record.tab');
        r.mocks.context.crm.objectId = 5;
        r.mocks.context.crm.objectTypeId = '0-1';
        r.render(<QuotesCard appUrl={APP} fetcher={fetcher} />);
        await r.waitFor(() => found(r.maybeFind(ErrorState), 'ErrorState'));
        assert.match(textOf(r.find(ErrorState)), /for deals/);
        assert.equal(calls.length, 0);
    });
});
