import { createElement } from 'lwc';
import QwotyCardView from 'c/qwotyCardView';
import getCard from '@salesforce/apex/QwotyCardViewController.getCard';
import { describeError, FRAME_BLOCKED, RETRYING } from '../cardMessages';

jest.mock('@salesforce/apex/QwotyCardViewController.getCard', () => ({ default: jest.fn() }), { virtual: true });

const RECORD_ID = '0065g00000AbCdEAAZ';
const APP_ORIGIN = 'https://app.qwoty.example';
const EMBED_URL = `${APP_ORIGIN}/embed/salesforce/card?token=first`;
const READY_TIMEOUT_MS = 10000;

const SUCCESS = {
    ok: true,
    embedUrl: EMBED_URL,
    expiresAt: '2026-11-22T10:05:00Z',
    quotes: []
};

function mount() {
    const element = createElement('c-qwoty-card-view', { is: QwotyCardView });
    element.recordId = RECORD_ID;
    document.body.appendChild(element);
    return element;
}

// Resolves pending promises and the re-render that follows them.
async function settle() {
    for (let i = 0; i < 3; i++) {
        // eslint-disable-next-line no-await-in-loop
        await Promise.resolve();
    }
}

function q(element, dataId) {
    return element.shadowRoot.querySelector(`[data-id="${dataId}"]`);
}

function frameOf(element) {
    return q(element, 'frame');
}

function frameHeight(element) {
    const match = /height:\s*(\d+)px/.exec(frameOf(element).getAttribute('style'));
    return match ? Number(match[1]) : null;
}

function post(data, { origin = APP_ORIGIN, source } = {}) {
    window.dispatchEvent(new MessageEvent('message', { data, origin, source }));
}

async function mountWithCard() {
    getCard.mockResolvedValueOnce(SUCCESS);
    const element = mount();
    await settle();
    expect(frameOf(element)).not.toBeNull();
    return element;
}

describe('c-qwoty-card-view', () => {
    beforeEach(() => {
        jest.useFakeTimers();
    });

    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.clearAllTimers();
        jest.useRealTimers();
        jest.resetAllMocks();
    });

    describe('loading', () => {
        it('shows a spinner until Apex answers, and calls Apex with the record id', async () => {
            let resolve;
            getCard.mockReturnValueOnce(
                new Promise((r) => {
                    resolve = r;
                })
            );
            const element = mount();
            await settle();

            expect(q(element, 'loading')).not.toBeNull();
            expect(element.shadowRoot.querySelector('lightning-spinner')).not.toBeNull();
            expect(frameOf(element)).toBeNull();
            expect(getCard).toHaveBeenCalledWith({ recordId: RECORD_ID });

            resolve(SUCCESS);
            await settle();
            expect(q(element, 'loading')).toBeNull();
            expect(frameOf(element)).not.toBeNull();
        });
    });

    describe('the card', () => {
        it('renders the embed URL in an iframe with an accessible title and a default height', async () => {
            const element = await mountWithCard();
            const frame = frameOf(element);

            expect(frame.getAttribute('src')).toBe(EMBED_URL);
            expect(frame.getAttribute('title')).toBe('Qwoty quotes for this opportunity');
            expect(frameHeight(element)).toBe(480);
            expect(q(element, 'error')).toBeNull();
            expect(q(element, 'blocked')).toBeNull();
        });

        it('refuses an embed URL that is not http(s)', async () => {
            // eslint-disable-next-line no-script-url -- the URL the card must refuse
            getCard.mockResolvedValueOnce({ ...SUCCESS, embedUrl: 'javascript:alert(1)' });
            const element = mount();
            await settle();

            expect(frameOf(element)).toBeNull();
            expect(q(element, 'error').dataset.code).toBe('INVALID_RESPONSE');
        });
    });

    describe('errors', () => {
        const codes = [
            'bad_request',
            'payload_too_large',
            'signature_missing',
            'signature_invalid',
            'timestamp_out_of_range',
            'replayed_request',
            'org_not_connected',
            'org_disconnected',
            'internal',
            'CONFIG_NOT_FOUND',
            'CALLOUT_FAILED',
            'RECORD_NOT_ACCESSIBLE',
            'INVALID_RESPONSE'
        ];

        it('has a distinct message for every code', () => {
            const titles = [...codes, 'unavailable'].map((code) => describeError(code).title);
            expect(new Set(titles).size).toBe(codes.length + 1);
            expect(titles).not.toContain(describeError('no_such_code').title);
        });

        it.each(codes)('explains %s with its fix, the server hint and the request id', async (code) => {
            getCard.mockResolvedValueOnce({
                ok: false,
                code,
                message: `message for ${code}`,
                hint: `hint for ${code}`,
                requestId: 'req-123',
                status: 401
            });
            const element = mount();
            await settle();

            const box = q(element, 'error');
            expect(box).not.toBeNull();
            expect(box.dataset.code).toBe(code);
            expect(q(element, 'error-title').textContent).toBe(describeError(code).title);
            expect(q(element, 'error-fix').textContent).toBe(describeError(code).fix);
            expect(q(element, 'error-message').textContent).toContain(`message for ${code}`);
            expect(q(element, 'error-hint').textContent).toContain(`hint for ${code}`);
            expect(q(element, 'error-request-id').textContent).toContain('req-123');
            expect(frameOf(element)).toBeNull();
        });

        it('points CONFIG_NOT_FOUND at connecting the org', async () => {
            getCard.mockResolvedValueOnce({ ok: false, code: 'CONFIG_NOT_FOUND', message: 'No secret' });
            const element = mount();
            await settle();
            expect(q(element, 'error-fix').textContent).toMatch(/Connect/);
            expect(q(element, 'error-hint')).toBeNull();
            expect(q(element, 'error-request-id')).toBeNull();
        });

        it('points CALLOUT_FAILED at the permission set and named credential and shows the Salesforce message', async () => {
            getCard.mockResolvedValueOnce({
                ok: false,
                code: 'CALLOUT_FAILED',
                message: 'Unauthorized endpoint, please check Setup->Security->Remote site settings.'
            });
            const element = mount();
            await settle();
            expect(q(element, 'error-fix').textContent).toMatch(/Qwoty User permission set/);
            expect(q(element, 'error-fix').textContent).toMatch(/Named Credentials/);
            expect(q(element, 'error-message').textContent).toMatch(/Unauthorized endpoint/);
        });

        it('falls back to a generic explanation for HTTP_<status> codes', async () => {
            getCard.mockResolvedValueOnce({
                ok: false,
                code: 'HTTP_502',
                message: 'The Qwoty server answered HTTP 502.',
                status: 502
            });
            const element = mount();
            await settle();
            expect(q(element, 'error').dataset.code).toBe('HTTP_502');
            expect(q(element, 'error-fix').textContent).toMatch(/proxy/);
        });

        it('still explains an unknown code', async () => {
            getCard.mockResolvedValueOnce({ ok: false, code: 'brand_new_code' });
            const element = mount();
            await settle();
            expect(q(element, 'error-title').textContent).toBe(describeError('brand_new_code').title);
            expect(q(element, 'error-code').textContent).toContain('brand_new_code');
        });

        it('shows the Apex exception when the controller itself fails', async () => {
            getCard.mockRejectedValueOnce({ body: { message: 'Insufficient access to QwotyCardViewController' } });
            const element = mount();
            await settle();
            expect(q(element, 'error').dataset.code).toBe('APEX_ERROR');
            expect(q(element, 'error-message').textContent).toContain('Insufficient access');
        });

        it('retries when the user clicks Retry', async () => {
            getCard.mockResolvedValueOnce({ ok: false, code: 'internal', requestId: 'req-1' });
            getCard.mockResolvedValueOnce(SUCCESS);
            const element = mount();
            await settle();
            expect(q(element, 'error')).not.toBeNull();

            q(element, 'retry').click();
            await settle();

            expect(getCard).toHaveBeenCalledTimes(2);
            expect(q(element, 'error')).toBeNull();
            expect(frameOf(element).getAttribute('src')).toBe(EMBED_URL);
        });
    });

    describe('temporarily unavailable', () => {
        const UNAVAILABLE = {
            ok: false,
            code: 'unavailable',
            message: 'Qwoty is temporarily unavailable: its database did not answer',
            hint: 'Try again in a few seconds.',
            requestId: 'req-503',
            status: 503,
            retryAfter: 3
        };

        it('says it is retrying, retries once after Retry-After, then shows the card', async () => {
            getCard.mockResolvedValueOnce(UNAVAILABLE);
            getCard.mockResolvedValueOnce(SUCCESS);
            const element = mount();
            await settle();

            expect(q(element, 'retrying-text').textContent).toBe(RETRYING);
            expect(q(element, 'error')).toBeNull();
            expect(getCard).toHaveBeenCalledTimes(1);

            jest.advanceTimersByTime(2999);
            await settle();
            expect(getCard).toHaveBeenCalledTimes(1);

            jest.advanceTimersByTime(1);
            await settle();
            expect(getCard).toHaveBeenCalledTimes(2);
            expect(q(element, 'retrying')).toBeNull();
            expect(frameOf(element).getAttribute('src')).toBe(EMBED_URL);
        });

        it('shows the error with its hint when the retry is unavailable too, and retries no more', async () => {
            getCard.mockResolvedValue(UNAVAILABLE);
            const element = mount();
            await settle();
            jest.advanceTimersByTime(3000);
            await settle();

            expect(getCard).toHaveBeenCalledTimes(2);
            expect(q(element, 'error').dataset.code).toBe('unavailable');
            expect(q(element, 'error-title').textContent).toBe(describeError('unavailable').title);
            expect(q(element, 'error-hint').textContent).toContain('Try again in a few seconds.');
            expect(q(element, 'error-request-id').textContent).toContain('req-503');

            jest.advanceTimersByTime(60000);
            await settle();
            expect(getCard).toHaveBeenCalledTimes(2);
        });

        it.each([
            [undefined, 2000],
            [null, 2000],
            [0, 1000],
            [60, 5000]
        ])('waits within 1 to 5 s (Retry-After %p: %p ms)', async (retryAfter, waitMs) => {
            getCard.mockResolvedValueOnce({ ...UNAVAILABLE, retryAfter });
            getCard.mockResolvedValueOnce(SUCCESS);
            mount();
            await settle();
            jest.advanceTimersByTime(waitMs - 1);
            await settle();
            expect(getCard).toHaveBeenCalledTimes(1);
            jest.advanceTimersByTime(1);
            await settle();
            expect(getCard).toHaveBeenCalledTimes(2);
        });

        it('does not retry once removed from the page', async () => {
            getCard.mockResolvedValueOnce(UNAVAILABLE);
            const element = mount();
            await settle();
            document.body.removeChild(element);
            jest.advanceTimersByTime(10000);
            await settle();
            expect(getCard).toHaveBeenCalledTimes(1);
        });
    });

    describe('blocked iframe', () => {
        it('shows the CSP Trusted Sites hint when the page never says ready', async () => {
            const element = await mountWithCard();

            jest.advanceTimersByTime(READY_TIMEOUT_MS - 1);
            await settle();
            expect(q(element, 'blocked')).toBeNull();

            jest.advanceTimersByTime(1);
            await settle();
            expect(q(element, 'blocked')).not.toBeNull();
            expect(q(element, 'blocked-fix').textContent).toBe(FRAME_BLOCKED.fix);
            expect(q(element, 'blocked-fix').textContent).toContain('Setup → CSP Trusted Sites');
            expect(frameOf(element)).toBeNull();
        });

        it('cancels the timeout when the page says ready', async () => {
            const element = await mountWithCard();
            post({ source: 'qwoty', type: 'ready' }, { source: frameOf(element).contentWindow });

            jest.advanceTimersByTime(READY_TIMEOUT_MS * 3);
            await settle();
            expect(q(element, 'blocked')).toBeNull();
            expect(frameOf(element)).not.toBeNull();
        });

        it('does not take "ready" from a foreign origin', async () => {
            const element = await mountWithCard();
            post(
                { source: 'qwoty', type: 'ready' },
                { origin: 'https://evil.example', source: frameOf(element).contentWindow }
            );

            jest.advanceTimersByTime(READY_TIMEOUT_MS);
            await settle();
            expect(q(element, 'blocked')).not.toBeNull();
        });

        it('offers a retry that loads the card again', async () => {
            const element = await mountWithCard();
            jest.advanceTimersByTime(READY_TIMEOUT_MS);
            await settle();

            getCard.mockResolvedValueOnce(SUCCESS);
            q(element, 'retry').click();
            await settle();
            expect(getCard).toHaveBeenCalledTimes(2);
            expect(q(element, 'blocked')).toBeNull();
            expect(frameOf(element)).not.toBeNull();
        });
    });

    describe('messages from the card page', () => {
        it('resizes the iframe on a resize message from the app origin and its own frame', async () => {
            const element = await mountWithCard();
            post({ source: 'qwoty', type: 'resize', height: 734 }, { source: frameOf(element).contentWindow });
            await settle();
            expect(frameHeight(element)).toBe(734);
        });

        it('clamps the height between 200 and 2000 px', async () => {
            const element = await mountWithCard();
            const source = frameOf(element).contentWindow;

            post({ source: 'qwoty', type: 'resize', height: 50 }, { source });
            await settle();
            expect(frameHeight(element)).toBe(200);

            post({ source: 'qwoty', type: 'resize', height: 99999 }, { source });
            await settle();
            expect(frameHeight(element)).toBe(2000);
        });

        it('ignores a resize from a foreign origin', async () => {
            const element = await mountWithCard();
            post(
                { source: 'qwoty', type: 'resize', height: 900 },
                { origin: 'https://evil.example', source: frameOf(element).contentWindow }
            );
            await settle();
            expect(frameHeight(element)).toBe(480);
        });

        it('ignores a message from the app origin sent by another window', async () => {
            const element = await mountWithCard();
            post({ source: 'qwoty', type: 'resize', height: 900 }, { source: window });
            await settle();
            expect(frameHeight(element)).toBe(480);
        });

        it('ignores messages without the qwoty marker, of unknown type or with a bad height', async () => {
            const element = await mountWithCard();
            const source = frameOf(element).contentWindow;
            post({ type: 'resize', height: 900 }, { source });
            post({ source: 'other', type: 'resize', height: 900 }, { source });
            post({ source: 'qwoty', type: 'explode', height: 900 }, { source });
            post({ source: 'qwoty', type: 'resize', height: '900' }, { source });
            post({ source: 'qwoty', type: 'resize', height: NaN }, { source });
            post('resize:900', { source });
            post(null, { source });
            await settle();
            expect(frameHeight(element)).toBe(480);
            expect(getCard).toHaveBeenCalledTimes(1);
        });

        it('fetches a fresh embed URL on session-expired and swaps it in', async () => {
            const element = await mountWithCard();
            const freshUrl = `${APP_ORIGIN}/embed/salesforce/card?token=second`;
            getCard.mockResolvedValueOnce({ ...SUCCESS, embedUrl: freshUrl });

            post({ source: 'qwoty', type: 'session-expired' }, { source: frameOf(element).contentWindow });
            await settle();

            expect(getCard).toHaveBeenCalledTimes(2);
            expect(getCard).toHaveBeenLastCalledWith({ recordId: RECORD_ID });
            expect(frameOf(element).getAttribute('src')).toBe(freshUrl);
        });

        it('ignores session-expired from a foreign origin', async () => {
            const element = await mountWithCard();
            post(
                { source: 'qwoty', type: 'session-expired' },
                { origin: 'https://evil.example', source: frameOf(element).contentWindow }
            );
            await settle();
            expect(getCard).toHaveBeenCalledTimes(1);
        });

        it('shows the error when the refresh fails', async () => {
            const element = await mountWithCard();
            getCard.mockResolvedValueOnce({ ok: false, code: 'org_disconnected', requestId: 'req-9' });

            post({ source: 'qwoty', type: 'session-expired' }, { source: frameOf(element).contentWindow });
            await settle();

            expect(q(element, 'error').dataset.code).toBe('org_disconnected');
            expect(frameOf(element)).toBeNull();
        });

        it('stops listening once removed from the page', async () => {
            const element = await mountWithCard();
            const source = frameOf(element).contentWindow;
            document.body.removeChild(element);

            post({ source: 'qwoty', type: 'session-expired' }, { source });
            await settle();
            expect(getCard).toHaveBeenCalledTimes(1);
        });
    });
});
