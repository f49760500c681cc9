// The card page's scripts (../static/card.js, and ../static/pipedrive.js in
// Pipedrive's custom panel) when Qwoty answers 503 unavailable (its database
// was briefly unreachable): they say so and retry once, after Qwoty's
// Retry-After; a second failure stays on screen with its hint. Each script
// runs in a fresh context whose document and window are fakes holding just
// what the script touches.
import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { PROJECT_DIR } from '../scripts/lib/project.mjs';

const STATIC = join(PROJECT_DIR, '..', 'static');

/** A fake element: what the scripts read and write on one. */
function element(props = {}) {
    const el = {
        dataset: {},
        children: [],
        textContent: '',
        hidden: false,
        appendChild(child) {
            el.children.push(child);
            return child;
        },
        addEventListener(type, fn) {
            (el.listeners[type] ||= []).push(fn);
        },
        querySelector: () => null,
        querySelectorAll: () => [],
        setAttribute() {},
        removeAttribute() {},
        listeners: {},
        ...props
    };
    return el;
}

/** A page at href with elements by id, and timers the test runs by hand. */
function page(href, byId = {}) {
    const timers = [];
    const replaced = [];
    const docListeners = {};
    const all = () => Object.values(byId).flatMap((e) => [e, ...e.children]);
    const document = {
        body: element(),
        documentElement: { scrollHeight: 300, getBoundingClientRect: () => ({ height: 300 }) },
        getElementById: (id) => all().find((e) => e && e.id === id) ?? byId[id] ?? null,
        querySelector: (sel) => (sel === '#expired .state' ? byId.expiredState ?? null : null),
        createElement: () => element(),
        addEventListener(type, fn) {
            (docListeners[type] ||= []).push(fn);
        },
        dispatchEvent(ev) {
            for (const fn of docListeners[ev.type] || []) fn(ev);
        }
    };
    const location = {
        href,
        search: new URL(href).search,
        replace: (u) => replaced.push(u)
    };
    const window = { location, document };
    window.parent = window; // not framed: the scripts post no messages
    const context = vm.createContext({
        window,
        document,
        location,
        URL,
        URLSearchParams,
        Promise,
        CustomEvent: class {
            constructor(type, init = {}) {
                this.type = type;
                this.detail = init.detail;
            }
        },
        setTimeout: (fn, ms) => timers.push({ fn, ms }),
        setInterval: () => 0,
        requestAnimationFrame: () => 0
    });
    return { context, window, document, timers, replaced, docListeners };
}

function run(p, file) {
    vm.runInContext(readFileSync(join(STATIC, file), 'utf8'), p.context, { filename: file });
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('card.js', () => {
    const launch = 'https://qwoty.example.com/embed/pipedrive/card?resource=deal&selectedIds=101&token=t.k.n&id=panel-1';

    test('an unavailable page says it is retrying, then loads itself once more after 2 s', () => {
        const state = element({ id: 'state', dataset: { code: 'unavailable', parentOrigins: '' } });
        const p = page(launch, { state });
        run(p, 'card.js');
        assert.equal(p.document.getElementById('retrying')?.textContent, 'Temporarily unavailable, retrying…');
        assert.deepEqual(
            p.timers.map((t) => t.ms),
            [2000]
        );
        assert.deepEqual(p.replaced, []);
        p.timers[0].fn();
        assert.equal(p.replaced.length, 1);
        const again = new URL(p.replaced[0]);
        assert.equal(again.searchParams.get('qwoty_retry'), '1');
        for (const [k, v] of new URL(launch).searchParams) {
            assert.equal(again.searchParams.get(k), v, `the retry keeps ${k}`);
        }
    });

    test('the retry, unavailable again, stays on screen with its hint', () => {
        const state = element({ id: 'state', dataset: { code: 'unavailable', parentOrigins: '' } });
        const p = page(`${launch}&qwoty_retry=1`, { state });
        run(p, 'card.js');
        assert.equal(state.children.length, 0);
        assert.deepEqual(p.timers, []);
        assert.deepEqual(p.replaced, []);
    });

    test('other error pages are not retried', () => {
        const state = element({ id: 'state', dataset: { code: 'org_disconnected', parentOrigins: '' } });
        const p = page(launch, { state });
        run(p, 'card.js');
        assert.deepEqual(p.timers, []);
        assert.equal(state.children.length, 0);
    });

    test("an action answered 503 says Qwoty is temporarily unavailable, with the request id", () => {
        const card = element({ id: 'card', dataset: { parentOrigins: '' } });
        const flash = element({ id: 'flash' });
        const main = element({ id: 'main' });
        const p = page('https://qwoty.example.com/embed/salesforce/card', { card, flash, main });
        run(p, 'card.js');
        const [onError] = p.document.body.listeners['htmx:responseError'];
        const xhr = (status) => ({ status, getResponseHeader: (h) => (h === 'X-Request-Id' ? 'rid-42' : null) });
        onError({ detail: { xhr: xhr(503) } });
        assert.equal(flash.textContent, 'Qwoty is temporarily unavailable. Try again in a few seconds (request rid-42).');
        onError({ detail: { xhr: xhr(500) } });
        assert.match(flash.textContent, /Something went wrong on our side/);
    });
});

describe('pipedrive.js', () => {
    /** A card in Pipedrive's custom panel whose session has expired, with a fake SDK and fetch. */
    function expiredCard(answers) {
        const expiredState = element({ id: 'expired-state' });
        const card = element({ id: 'card', dataset: { recordId: '101' } });
        const p = page('https://qwoty.example.com/embed/pipedrive/card?token=x&pd_id=panel-7', { card, expiredState });
        const calls = [];
        p.context.fetch = async (url, options) => {
            calls.push({ url, method: options.method });
            const a = answers.length > 1 ? answers.shift() : answers[0];
            return {
                ok: a.status === 200,
                status: a.status,
                headers: { get: (h) => (a.headers || {})[h] ?? null },
                json: async () => a.body
            };
        };
        class SDK {
            async initialize() {
                return this;
            }
            async execute(command) {
                return command === 'get_signed_token' ? { token: 'sdk-token' } : {};
            }
        }
        SDK.Command = { RESIZE: 'resize', GET_SIGNED_TOKEN: 'get_signed_token' };
        p.window.AppExtensionsSDK = SDK;
        run(p, 'pipedrive.js');
        return { ...p, calls, expiredState };
    }

    const unavailable = (headers = {}) => ({
        status: 503,
        headers,
        body: { error: { code: 'unavailable', message: 'Qwoty is temporarily unavailable', hint: 'Try again in a few seconds.' } }
    });

    test('renews the card after one retry when Qwoty was unavailable', async () => {
        const p = expiredCard([unavailable({ 'Retry-After': '3' }), { status: 200, body: { embedUrl: 'https://qwoty.example.com/embed/pipedrive/card?token=new' } }]);
        await flush();
        p.document.dispatchEvent({ type: 'qwoty:session-expired' });
        await flush();
        assert.equal(p.calls.length, 1);
        assert.equal(p.document.getElementById('renewing')?.textContent, 'Qwoty is temporarily unavailable, retrying…');
        assert.deepEqual(
            p.timers.map((t) => t.ms),
            [3000]
        );
        p.timers[0].fn();
        await flush();
        assert.equal(p.calls.length, 2);
        assert.equal(p.calls[1].url, p.calls[0].url);
        assert.equal(p.calls[1].method, 'POST');
        assert.deepEqual(p.replaced, ['https://qwoty.example.com/embed/pipedrive/card?token=new&pd_id=panel-7']);
    });

    test('shows the message and hint when the retry is unavailable too, and stops', async () => {
        const p = expiredCard([unavailable({ 'Retry-After': '60' })]);
        await flush();
        p.document.dispatchEvent({ type: 'qwoty:session-expired' });
        await flush();
        assert.deepEqual(
            p.timers.map((t) => t.ms),
            [5000],
            'Retry-After is capped at 5 s'
        );
        p.timers[0].fn();
        await flush();
        assert.equal(p.calls.length, 2);
        assert.equal(p.timers.length, 1, 'one retry, no more');
        assert.equal(p.document.getElementById('renewing')?.textContent, 'Qwoty is temporarily unavailable. Try again in a few seconds.');
        assert.deepEqual(p.replaced, []);
    });

    test('does not retry other refusals', async () => {
        const p = expiredCard([{ status: 401, body: { error: { code: 'token_invalid', message: 'bad token', hint: 'Reload the deal.' } } }]);
        await flush();
        p.document.dispatchEvent({ type: 'qwoty:session-expired' });
        await flush();
        assert.equal(p.calls.length, 1);
        assert.deepEqual(p.timers, []);
        assert.deepEqual(p.replaced, []);
    });
});
