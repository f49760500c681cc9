package server

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
)

// historyView is a quote's history, oldest first, with times in the
// rep's time zone (UTC when the CRM did not say).
func historyView(h *store.History, tz string) templates.HistoryView {
	loc := time.UTC
	if l, err := time.LoadLocation(tz); err == nil && tz != "" {
		loc = l
	}
	type item struct {
		at time.Time
		templates.HistoryItem
	}
	var items []item
	add := func(at time.Time, kind, text string) {
		items = append(items, item{at, templates.HistoryItem{Kind: kind, Text: text, At: at.In(loc).Format("2 Jan 2006 15:04 MST")}})
	}
	for _, s := range h.Sends {
		text := "Sent revision " + strconv.Itoa(s.Revision) + " to " + strings.Join(s.Recipients, ", ") + " by " + s.By
		switch s.MailState {
		case "queued":
			text += " (email queued)"
		case "partial":
			text += " (email reached some recipients only: " + s.MailError + ")"
		case "failed":
			text += " (email not sent: " + s.MailError + ")"
		}
		add(s.At, "sent", text)
	}
	for _, v := range h.Views {
		add(v.At, "viewed", "Viewed by the customer (from "+v.IP+")")
	}
	for _, d := range h.Decisions {
		if d.Decision == "accepted" {
			add(d.At, "accepted", "Accepted by "+d.FullName+" (revision "+strconv.Itoa(d.Revision)+", version "+d.VersionHash[:12]+"…, from "+d.IP+")")
		} else {
			text := "Rejected by the customer (revision " + strconv.Itoa(d.Revision) + ")"
			if d.Reason != "" {
				text += ": " + d.Reason
			}
			add(d.At, "rejected", text)
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	var v templates.HistoryView
	for _, it := range items {
		v.Items = append(v.Items, it.HistoryItem)
	}
	return v
}
