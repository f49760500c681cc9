import { LightningElement, api } from 'lwc';
import getCard from '@salesforce/apex/QwotyCardViewController.getCard';
import { describeError, FRAME_BLOCKED, RETRYING } from './cardMessages';

// How long the embedded page has to say "ready" before we assume the browser
// refused to frame it (inactive CSP Trusted Site, frame-ancestors mismatch).
const FRAME_READY_TIMEOUT_MS = 10000;
const MIN_FRAME_HEIGHT = 200;
const MAX_FRAME_HEIGHT = 2000;
const DEFAULT_FRAME_HEIGHT = 480;

// The one automatic retry of an unavailable answer (the server's database was
// briefly unreachable) waits the server's Retry-After, within these bounds.
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 5000;
const RETRY_DEFAULT_MS = 2000;

function retryDelayMs(seconds) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
        return RETRY_DEFAULT_MS;
    }
    return Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, seconds * 1000));
}

// Messages from the card page carry this marker; anything else is ignored.
const MESSAGE_SOURCE = 'qwoty';

function originOf(url) {
    try {
        const parsed = new URL(url);
        if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
            return null;
        }
        return parsed.origin;
    } catch {
        return null;
    }
}

function apexErrorMessage(error) {
    if (error && error.body && typeof error.body.message === 'string') {
        return error.body.message;
    }
    if (error && typeof error.message === 'string') {
        return error.message;
    }
    return 'Unknown error';
}

export default class QwotyCardView extends LightningElement {
    @api recordId;

    state = 'loading'; // loading | retrying | card | error | blocked
    embedUrl;
    appOrigin;
    frameHeight = DEFAULT_FRAME_HEIGHT;
    error;

    _connected = false;
    _requestSeq = 0;
    _readyTimer;
    _retryTimer;
    _messageHandler = (event) => this.handleMessage(event);

    connectedCallback() {
        this._connected = true;
        window.addEventListener('message', this._messageHandler);
        this.load();
    }

    disconnectedCallback() {
        this._connected = false;
        window.removeEventListener('message', this._messageHandler);
        this.clearReadyTimer();
        this.clearRetryTimer();
    }

    get isLoading() {
        return this.state === 'loading';
    }

    get isRetrying() {
        return this.state === 'retrying';
    }

    get retryingText() {
        return RETRYING;
    }

    get hasError() {
        return this.state === 'error';
    }

    get isBlocked() {
        return this.state === 'blocked';
    }

    get blockedTitle() {
        return FRAME_BLOCKED.title;
    }

    get blockedFix() {
        return FRAME_BLOCKED.fix;
    }

    get frameStyle() {
        return `width: 100%; height: ${this.frameHeight}px; border: 0; display: block;`;
    }

    /**
     * Asks Apex for the card. A refresh (session expired) keeps the current
     * iframe on screen until the new URL arrives. An unavailable answer is
     * retried once, after the server's Retry-After; a second one is shown.
     */
    async load({ refresh = false, retried = false } = {}) {
        const seq = ++this._requestSeq;
        this.clearReadyTimer();
        this.clearRetryTimer();
        if (!refresh) {
            this.state = 'loading';
        }
        let result;
        try {
            result = await getCard({ recordId: this.recordId });
        } catch (e) {
            if (this.isCurrent(seq)) {
                this.showError({ code: 'APEX_ERROR', message: apexErrorMessage(e) });
            }
            return;
        }
        if (!this.isCurrent(seq)) {
            return;
        }
        if (result && result.ok !== true && result.code === 'unavailable' && !retried) {
            this.state = 'retrying';
            // One delayed retry of a 503 unavailable; LWS distorts only string callbacks.
            // eslint-disable-next-line @lwc/lwc/no-async-operation, @locker/locker/distorted-window-set-timeout
            this._retryTimer = setTimeout(() => {
                this._retryTimer = undefined;
                if (this.isCurrent(seq)) {
                    this.load({ refresh, retried: true });
                }
            }, retryDelayMs(result.retryAfter));
            return;
        }
        if (!result || result.ok !== true) {
            this.showError(result || { code: 'INVALID_RESPONSE' });
            return;
        }
        const origin = originOf(result.embedUrl);
        if (!origin) {
            this.showError({
                code: 'INVALID_RESPONSE',
                message: 'The embed URL returned by Qwoty is not an http(s) URL.'
            });
            return;
        }
        this.embedUrl = result.embedUrl;
        this.appOrigin = origin;
        this.state = 'card';
        this.startReadyTimer();
    }

    isCurrent(seq) {
        return this._connected && seq === this._requestSeq;
    }

    showError(result) {
        const code = result.code || 'INVALID_RESPONSE';
        const text = describeError(code);
        this.error = {
            code,
            title: text.title,
            fix: text.fix,
            message: result.message || null,
            hint: result.hint || null,
            requestId: result.requestId || null,
            status: result.status || null
        };
        this.embedUrl = undefined;
        this.appOrigin = undefined;
        this.state = 'error';
    }

    startReadyTimer() {
        this.clearReadyTimer();
        // A timer is the only way to notice a frame that never loads; LWS only
        // distorts setTimeout for string callbacks, and this one is a function.
        // eslint-disable-next-line @lwc/lwc/no-async-operation, @locker/locker/distorted-window-set-timeout
        this._readyTimer = setTimeout(() => {
            this._readyTimer = undefined;
            if (this.state === 'card') {
                this.state = 'blocked';
            }
        }, FRAME_READY_TIMEOUT_MS);
    }

    clearRetryTimer() {
        if (this._retryTimer) {
            clearTimeout(this._retryTimer);
            this._retryTimer = undefined;
        }
    }

    clearReadyTimer() {
        if (this._readyTimer) {
            clearTimeout(this._readyTimer);
            this._readyTimer = undefined;
        }
    }

    /**
     * Accepts a message only when it comes from the app's origin AND from our
     * own iframe's window; everything else (other frames, other origins,
     * other shapes) is ignored.
     */
    handleMessage(event) {
        if (!this.appOrigin || this.state !== 'card' || event.origin !== this.appOrigin) {
            return;
        }
        const frame = this.refs.frame;
        if (!frame || !frame.contentWindow || event.source !== frame.contentWindow) {
            return;
        }
        const data = event.data;
        if (!data || typeof data !== 'object' || data.source !== MESSAGE_SOURCE) {
            return;
        }
        switch (data.type) {
            case 'ready':
                this.clearReadyTimer();
                break;
            case 'resize':
                this.resize(data.height);
                break;
            case 'session-expired':
                this.load({ refresh: true });
                break;
            default:
                break;
        }
    }

    resize(height) {
        if (typeof height !== 'number' || !Number.isFinite(height)) {
            return;
        }
        this.frameHeight = Math.round(Math.min(MAX_FRAME_HEIGHT, Math.max(MIN_FRAME_HEIGHT, height)));
    }

    handleRetry() {
        this.load();
    }
}
