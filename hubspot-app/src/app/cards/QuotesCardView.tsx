// The Qwoty card on a HubSpot deal: loads the deal's quotes from Qwoty through
// hubspot.fetch (which signs the request), shows them (the primary one
// tagged, each with its sync line), and opens Qwoty's card page in
// HubSpot's iframe modal. Kept apart from the entry point so tests can render
// it with HubSpot's test renderer and a fake fetch.
import { useCallback, useEffect, useRef, useState } from 'react';
import {
    Button,
    ButtonRow,
    EmptyState,
    ErrorState,
    Flex,
    LoadingSpinner,
    StatusTag,
    Table,
    TableBody,
    TableCell,
    TableHead,
    TableHeader,
    TableRow,
    Tag,
    Text,
    hubspot,
    useExtensionActions,
    useExtensionContext
} from '@hubspot/ui-extensions';
import { APP_URL } from './config';
import {
    buildCardUrl,
    describeProblem,
    fetchFailure,
    interpretResponse,
    isExpired,
    syncLine,
    type CardData,
    type CardProblem,
    type LoadResult
} from './card-model';

/** What the card reads from hubspot.fetch's Response. */
export interface FetchAnswer {
    status: number;
    text(): Promise<string>;
    headers?: { get(name: string): string | null };
}

export type CardFetcher = (url: string, options: { method: 'GET' }) => Promise<FetchAnswer>;

/** hubspot.fetch: HubSpot adds the account and user to the query and signs the request. */
const hubspotFetcher: CardFetcher = (url, options) => hubspot.fetch(url, options);

/** Size of the iframe modal that shows Qwoty's card page, in pixels. */
export const IFRAME_MODAL = { width: 1100, height: 760, title: 'Qwoty', flush: true } as const;

export interface QuotesCardProps {
    /** Qwoty's address; defaults to the one written by scripts/retarget.mjs. */
    appUrl?: string;
    /** Replaces hubspot.fetch in tests. */
    fetcher?: CardFetcher;
    /** Clock, in milliseconds; replaced in tests. */
    now?: () => number;
    /** Waits before the automatic retry; replaced in tests. */
    wait?: (ms: number) => Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One request to Qwoty's card endpoint, with every failure turned into a problem to show. */
async function fetchCard(
    appUrl: string,
    fetcher: CardFetcher,
    objectId: number | string | undefined,
    objectTypeId: string | undefined
): Promise<LoadResult> {
    let url: string;
    try {
        url = buildCardUrl(appUrl, { objectId, objectTypeId });
    } catch (e) {
        return { ok: false, problem: describeProblem('no_record', { detail: (e as Error).message }) };
    }
    try {
        const answer = await fetcher(url, { method: 'GET' });
        return interpretResponse(answer.status, await answer.text(), appUrl, answer.headers?.get('Retry-After'));
    } catch (e) {
        return fetchFailure(e);
    }
}

type CardState =
    | { kind: 'loading' }
    | { kind: 'waiting'; problem: CardProblem }
    | { kind: 'ready'; data: CardData; refreshing: boolean }
    | { kind: 'error'; problem: CardProblem; retrying: boolean };

export function QuotesCard({ appUrl = APP_URL, fetcher = hubspotFetcher, now = Date.now, wait = sleep }: QuotesCardProps) {
    const context = useExtensionContext<'crm.record.tab'>();
    const actions = useExtensionActions<'crm.record.tab'>();
    const objectId = context.crm?.objectId;
    const objectTypeId = context.crm?.objectTypeId;
    const [state, setState] = useState<CardState>({ kind: 'loading' });
    // Only the answer of the latest request is shown, whatever order answers arrive in.
    const latest = useRef(0);

    const load = useCallback(async (): Promise<LoadResult> => {
        const seq = ++latest.current;
        setState((prev) => {
            if (prev.kind === 'ready') return { ...prev, refreshing: true };
            if (prev.kind === 'error') return { ...prev, retrying: true };
            return prev;
        });
        let result = await fetchCard(appUrl, fetcher, objectId, objectTypeId);
        // Qwoty's database was briefly unreachable: say so, and try once
        // more after the wait Qwoty asked for; a second failure is shown.
        if (!result.ok && result.problem.retryInMs !== undefined && seq === latest.current) {
            setState({ kind: 'waiting', problem: result.problem });
            await wait(result.problem.retryInMs);
            if (seq !== latest.current) return result;
            result = await fetchCard(appUrl, fetcher, objectId, objectTypeId);
        }
        if (seq === latest.current) {
            setState(
                result.ok
                    ? { kind: 'ready', data: result.data, refreshing: false }
                    : { kind: 'error', problem: result.problem, retrying: false }
            );
        }
        return result;
    }, [appUrl, fetcher, objectId, objectTypeId, wait]);

    useEffect(() => {
        void load();
    }, [load]);

    // Opens Qwoty in HubSpot's iframe modal. The embed token lives 5 minutes:
    // past that (or nearly), ask Qwoty for a fresh one first.
    const open = useCallback(
        async (data: CardData, quoteId?: string) => {
            let fresh = data;
            if (isExpired(data.expiresAtMs, now())) {
                const result = await load();
                if (!result.ok) return;
                fresh = result.data;
            }
            const quote = quoteId === undefined ? undefined : fresh.quotes.find((q) => q.id === quoteId);
            actions.openIframeModal({ uri: quote ? quote.url : fresh.embedUrl, ...IFRAME_MODAL }, () => {
                // Quotes may have changed in the modal.
                void load();
            });
        },
        [actions, load, now]
    );

    if (state.kind === 'loading') {
        return <LoadingSpinner testId="qwoty-loading" label="Loading quotes…" showLabel layout="centered" />;
    }

    if (state.kind === 'waiting') {
        return (
            <LoadingSpinner
                testId="qwoty-waiting"
                label="Qwoty is temporarily unavailable, retrying…"
                showLabel
                layout="centered"
            />
        );
    }

    if (state.kind === 'error') {
        const p = state.problem;
        return (
            <ErrorState testId="qwoty-error" title={p.title} type={p.code === 'org_not_connected' ? 'support' : 'error'}>
                <Text>{p.message}</Text>
                <Text format={{ fontWeight: 'demibold' }}>{p.fix}</Text>
                {p.hint ? <Text>Hint from Qwoty: {p.hint}</Text> : null}
                {p.detail ? <Text variant="microcopy">Details: {p.detail}</Text> : null}
                {p.requestId ? <Text variant="microcopy">Request id: {p.requestId}</Text> : null}
                <Button testId="qwoty-retry" onClick={() => void load()} disabled={state.retrying}>
                    Try again
                </Button>
            </ErrorState>
        );
    }

    const { data, refreshing } = state;
    if (data.quotes.length === 0) {
        return (
            <EmptyState testId="qwoty-empty" title="No quotes for this deal yet" layout="vertical" imageName="deals">
                <Text>Quotes you create in Qwoty for this deal appear here.</Text>
                <Button testId="qwoty-open" variant="primary" onClick={() => void open(data)}>
                    Create a quote in Qwoty
                </Button>
            </EmptyState>
        );
    }

    return (
        <Flex direction="column" gap="sm">
            <Table testId="qwoty-quotes" bordered>
                <TableHead>
                    <TableRow>
                        <TableHeader>Number</TableHeader>
                        <TableHeader>Title</TableHeader>
                        <TableHeader>Status</TableHeader>
                        <TableHeader align="right">Total</TableHeader>
                    </TableRow>
                </TableHead>
                <TableBody>
                    {data.quotes.map((q) => {
                        const sync = syncLine(q.sync, now());
                        const needsSomeone = sync?.kind === 'failed' || sync?.kind === 'waiting';
                        return (
                            <TableRow key={q.id}>
                                <TableCell>
                                    <Flex direction="row" gap="xs" align="center" wrap>
                                        <Button
                                            testId={`qwoty-quote-${q.id}`}
                                            variant="transparent"
                                            size="xs"
                                            onClick={() => void open(data, q.id)}
                                        >
                                            {q.number}
                                        </Button>
                                        {q.primary ? (
                                            <Tag testId={`qwoty-primary-${q.id}`} variant="info" inline>
                                                Primary
                                            </Tag>
                                        ) : null}
                                    </Flex>
                                </TableCell>
                                <TableCell>
                                    <Text>{q.title || '—'}</Text>
                                    {sync ? (
                                        // One line in the narrow card; the whole message is in the tooltip.
                                        <Text
                                            testId={`qwoty-sync-${q.id}`}
                                            variant="microcopy"
                                            format={needsSomeone ? { fontWeight: 'demibold' } : undefined}
                                            truncate={{ tooltipText: sync.text }}
                                        >
                                            {sync.text}
                                        </Text>
                                    ) : null}
                                </TableCell>
                                <TableCell>
                                    <StatusTag variant={q.statusVariant}>{q.statusLabel}</StatusTag>
                                </TableCell>
                                <TableCell align="right">
                                    <Text>{q.amount}</Text>
                                </TableCell>
                            </TableRow>
                        );
                    })}
                </TableBody>
            </Table>
            <ButtonRow>
                <Button testId="qwoty-open" variant="primary" onClick={() => void open(data)}>
                    Open Qwoty
                </Button>
                <Button testId="qwoty-refresh" variant="secondary" onClick={() => void load()} disabled={refreshing}>
                    Refresh
                </Button>
            </ButtonRow>
        </Flex>
    );
}
