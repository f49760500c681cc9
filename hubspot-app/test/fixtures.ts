// Answers of Qwoty's card endpoint shaped as docs/callout-contract.md shows them.
export const APP = 'https://quotes.example.com';

export const EMBED = `${APP}/embed/hubspot/card?token=eyJhbGciOiJIUzI1NiJ9.e30.sig`;

export function quote(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        id: '9eaca397-bd8c-4fb1-9ffb-4388643538bb',
        number: 'Q-00042',
        title: 'Acme - 200 licences',
        status: 'draft',
        total: '1234.50',
        currency: 'USD',
        updatedAt: '2026-11-22T09:58:12.482913Z',
        url: `${EMBED}&quote=9eaca397-bd8c-4fb1-9ffb-4388643538bb`,
        primary: true,
        sync: { state: 'synced', at: '2026-11-22T09:58:14.1032Z', code: '', message: '' },
        ...overrides
    };
}

export function answer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        embedUrl: EMBED,
        expiresAt: '2026-11-22T10:05:00Z',
        record: { id: '1234567890' },
        quotes: [
            quote(),
            quote({
                id: '5b7e1c0a-0000-4000-8000-000000000001',
                number: 'Q-00041',
                title: '',
                status: 'accepted',
                total: '1500',
                currency: 'JPY',
                url: `${EMBED}&quote=5b7e1c0a-0000-4000-8000-000000000001`,
                primary: false,
                sync: {
                    state: 'failed',
                    at: '2026-11-21T15:40:02Z',
                    code: 'sync_rejected',
                    message: 'PROPERTY_DOESNT_EXIST: Property "qwoty_ref" does not exist'
                }
            })
        ],
        ...overrides
    };
}

export function qwotyError(code: string, extra: Record<string, unknown> = {}): string {
    return JSON.stringify({
        error: { code, message: `message of ${code}`, hint: `hint of ${code}`, requestId: 'req-1d9824c1700bd9ed', ...extra }
    });
}
