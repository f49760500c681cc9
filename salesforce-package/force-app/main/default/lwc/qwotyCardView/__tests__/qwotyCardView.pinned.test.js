// Four behaviours of the card that once changed without any test failing,
// pinned one by one: a refresh keeps the iframe until the new URL arrives, a
// late answer to an earlier request is dropped, CONFIG_NOT_FOUND names the
// console's Connect step, and an internal error shows its request id.
import { createElement } from 'lwc';
import QwotyCardView from 'c/qwotyCardView';
import getCard from '@salesforce/apex/QwotyCardViewController.getCard';

jest.mock('@salesforce/apex/QwotyCardViewController.getCard', () => ({ default: jest.fn() }), { virtual: true });

const APP_ORIGIN = 'https://app.qwoty.example';
const FIRST_URL = `${APP_ORIGIN}/embed/salesforce/card?token=first`;
const SECOND_URL = `${APP_ORIGIN}/embed/salesforce/card?token=second`;
const THIRD_URL = `${APP_ORIGIN}/embed/salesforce/card?token=third`;

const card = (embedUrl) => ({ ok: true, embedUrl, expiresAt: '2026-11-22T10:05:00Z', quotes: [] });

// A getCard answer that the test releases when it wants.
function deferred() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
        resolve = res;
        reject = rej;
    });
    return { promise, resolve, reject };
}

function mount() {
    const element = createElement('c-qwoty-card-view', { is: QwotyCardView });
    element.recordId = '0065g00000AbCdEAAZ';
    document.body.appendChild(element);
    return element;
}

async function settle() {
    for (let i = 0; i < 3; i++) {
        // eslint-disable-next-line no-await-in-loop
        await Promise.resolve();
    }
}

const q = (element, dataId) => element.shadowRoot.querySelector(`[data-id="${dataId}"]`);
const frameSrc = (element) => q(element, 'frame') && q(element, 'frame').getAttribute('src');

function sessionExpired(element) {
    window.dispatchEvent(
        new MessageEvent('message', {
            data: { source: 'qwoty', type: 'session-expired' },
            origin: APP_ORIGIN,
            source: q(element, 'frame').contentWindow
        })
    );
}

async function mountWithCard() {
    getCard.mockResolvedValueOnce(card(FIRST_URL));
    const element = mount();
    await settle();
    expect(frameSrc(element)).toBe(FIRST_URL);
    return element;
}

describe('c-qwoty-card-view pinned behaviours', () => {
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

    it('keeps the current iframe on screen while a refresh is in flight, then swaps in the new URL', async () => {
        const element = await mountWithCard();
        const refresh = deferred();
        getCard.mockReturnValueOnce(refresh.promise);

        sessionExpired(element);
        await settle();

        expect(getCard).toHaveBeenCalledTimes(2);
        expect(q(element, 'loading')).toBeNull();
        expect(frameSrc(element)).toBe(FIRST_URL);

        refresh.resolve(card(SECOND_URL));
        await settle();
        expect(frameSrc(element)).toBe(SECOND_URL);
    });

    it('drops a late answer to an earlier request: the latest request decides what is shown', async () => {
        const element = await mountWithCard();
        const slow = deferred();
        const fast = deferred();
        getCard.mockReturnValueOnce(slow.promise).mockReturnValueOnce(fast.promise);

        sessionExpired(element);
        await settle();
        sessionExpired(element);
        await settle();
        expect(getCard).toHaveBeenCalledTimes(3);

        fast.resolve(card(THIRD_URL));
        await settle();
        expect(frameSrc(element)).toBe(THIRD_URL);

        slow.resolve(card(SECOND_URL));
        await settle();
        expect(frameSrc(element)).toBe(THIRD_URL);
    });

    it('drops a late failure of an earlier request too', async () => {
        const element = await mountWithCard();
        const slow = deferred();
        getCard.mockReturnValueOnce(slow.promise).mockResolvedValueOnce(card(THIRD_URL));

        sessionExpired(element);
        await settle();
        sessionExpired(element);
        await settle();
        expect(frameSrc(element)).toBe(THIRD_URL);

        slow.reject({ body: { message: 'Read timed out' } });
        await settle();
        expect(q(element, 'error')).toBeNull();
        expect(frameSrc(element)).toBe(THIRD_URL);
    });

    it('names the console step that connects the org for CONFIG_NOT_FOUND', async () => {
        getCard.mockResolvedValueOnce({ ok: false, code: 'CONFIG_NOT_FOUND', message: 'No secret.' });
        const element = mount();
        await settle();

        const fix = q(element, 'error-fix').textContent;
        expect(fix).toContain('Settings → Integrations');
        expect(fix).toContain('Connect my Salesforce org');
    });

    it('shows the request id of an internal error and tells the user to send it to support', async () => {
        getCard.mockResolvedValueOnce({ ok: false, code: 'internal', requestId: 'req-01HF7Q', status: 500 });
        const element = mount();
        await settle();

        expect(q(element, 'error').dataset.code).toBe('internal');
        expect(q(element, 'error-request-id').textContent).toBe('Request id: req-01HF7Q');
        expect(q(element, 'error-fix').textContent).toMatch(/send the request id .* to Qwoty support/);
    });
});
