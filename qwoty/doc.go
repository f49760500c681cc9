// Package qwoty holds the domain types shared by every layer: workspaces,
// connections, customers, quotes and their line items, the quote status rules,
// totals arithmetic and the application error codes. It imports nothing of ours.
package qwoty
