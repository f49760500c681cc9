// Entry point of the Qwoty app card (see quotes-card-hsmeta.json): registers
// the card with HubSpot. The card itself is in QuotesCardView.tsx.
import { hubspot } from '@hubspot/ui-extensions';
import { QuotesCard } from './QuotesCardView';

hubspot.extend<'crm.record.tab'>(() => <QuotesCard />);
