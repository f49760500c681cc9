import { LightningElement, api } from 'lwc';
import getCard from '@salesforce/apex/QwotyCardViewController.getCard';
import { describeError, FRAME_BLOCKED } from './cardMessages';

// How long the embedded page has to say "ready" before we assume the browser
// refused to frame it (inactive CSP Trusted Site, frame-ancestors mismatch).
const FRAME_READY_TIMEOUT_MS = 10000;
const MIN_FRAME_HEIGHT = 200;
const MAX_FRAME_HEIGHT = 2000;
const DEFAULT_FRAME_HEIGHT = 480;

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

    state = 'loading'; // loading | card | error | blocked
    embedUrl;
    appOrigin;
    frameHeight = DEFAULT_FRAME_HEIGHT;
    error;

    _connected = false;
    _requestSeq = 0;
    _readyTimer;
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
    }

    get isLoading() {
        return this.state === 'loading';
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
     * iframe on screen until the new URL arrives.
     */
    async load({ refresh = false } = {}) {
        const seq = ++this._requestSeq;
        this.clearReadyTimer();
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
