package qwoty

// QuoteEvent is the event a change of a quote makes: a move to sent,
// viewed, accepted, rejected or expired is that status's event; any other
// change (its lines, its terms, its external reference, back to draft) is
// quote.updated.
func QuoteEvent(from, to Status) EventType {
	if from != to {
		switch to {
		case StatusSent:
			return EventQuoteSent
		case StatusViewed:
			return EventQuoteViewed
		case StatusAccepted:
			return EventQuoteAccepted
		case StatusRejected:
			return EventQuoteRejected
		case StatusExpired:
			return EventQuoteExpired
		}
	}
	return EventQuoteUpdated
}
