package crmsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Pulling: each stream of a connection's Puller is listed from its mark
// (the CRM's own time of the newest record of the last complete listing,
// less crm.PullOverlap), a page at a time; each page is stored with the
// listing's cursor in one transaction, so that a crash resumes at the page
// it stopped at, and the mark moves only once the listing is complete.

// PullReport is what a pull of a connection did.
type PullReport struct {
	Streams []StreamReport
	Calls   int
	Tokens  int
}

// StreamReport is what a pull did to one stream.
type StreamReport struct {
	Stream string
	Pages  int
	// Calls are the API calls its pages made.
	Calls int
	store.PullApplied
	// Complete is set when the listing reached its end (the mark moved).
	Complete bool
	// Err is why it stopped early: a *crm.WaitError (a limit), ctx's end,
	// or the CRM's error.
	Err error
}

// PullOnce runs every stream of conn's Puller from where it stands until
// each listing is complete, a limit says wait, or until (zero: no bound)
// passes, taking from the connection's shared API budget (the same as its
// pushes). It returns an error only when the database fails; a stream's
// own failure is in its StreamReport (and in its cursor's last error).
func PullOnce(ctx context.Context, db *store.DB, a crm.Adapter, conn *qwoty.Connection, until time.Time) (PullReport, error) {
	var rep PullReport
	p, sy := a.Pull(), a.Sync()
	if p == nil || sy == nil {
		return rep, nil
	}
	set, err := db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return rep, err
	}
	fields, err := pulledFields(ctx, db, conn)
	if err != nil {
		return rep, err
	}
	b := newBudget(db, conn.ID, sy.Buckets(conn, set.BudgetShare))
	s := session.New(db, a, conn)
	for _, st := range p.Streams(conn) {
		if st.Kind == crm.KindOrder && !slices.Contains(set.Triggers, qwoty.TriggerOrder) {
			// Orders made in the CRM come in with the order trigger
			// (docs/sync.md, "Orders in the CRM"); an org without orders
			// would refuse the listing.
			continue
		}
		sr, err := pullStream(ctx, db, p, s, b, conn, st, fields[st.Kind], until, &rep)
		rep.Streams = append(rep.Streams, sr)
		if err != nil {
			return rep, err
		}
		var wait *crm.WaitError
		if errors.As(sr.Err, &wait) || ctx.Err() != nil || connectionLost(sr.Err) {
			// The budget is spent, or the connection lost, for every
			// stream alike.
			break
		}
	}
	return rep, nil
}

// pulledFields are the CRM fields the connection's mappings read, by kind
// of record (qwoty.PulledFields: a mapping's object is its kind).
func pulledFields(ctx context.Context, db *store.DB, conn *qwoty.Connection) (map[string][]string, error) {
	ms, err := db.Mappings(ctx, conn.WorkspaceID, conn.ID)
	if err != nil {
		return nil, err
	}
	return qwoty.PulledFields(ms), nil
}

func pullStream(ctx context.Context, db *store.DB, p crm.Puller, s crm.Session, b crm.Budget, conn *qwoty.Connection,
	st crm.Stream, fields []string, until time.Time, rep *PullReport) (StreamReport, error) {
	sr := StreamReport{Stream: st.Name}
	cur, err := db.PullCursorOf(ctx, conn.ID, st.Name)
	if err != nil {
		return sr, err
	}
	from := crm.PullFrom{Fields: fields}
	if cur.Listing {
		from.Since, from.Cursor = cur.Since, cur.Cursor
	} else if !cur.HWM.IsZero() {
		from.Since = cur.HWM.Add(-crm.PullOverlap)
	}
	for {
		if !until.IsZero() && time.Now().After(until) {
			return sr, nil
		}
		page, err := p.Pull(ctx, s, b, st.Name, from)
		rep.Calls += page.Calls
		rep.Tokens += page.Tokens
		sr.Calls += page.Calls
		if err != nil {
			sr.Err = err
			var wait *crm.WaitError
			// Stopping (ctx's end) is ours, and a budget's wait is no
			// failure: neither is the stream's last error.
			if ctx.Err() == nil && (!errors.As(err, &wait) || !wait.Budget) {
				if ferr := db.FailPull(context.WithoutCancel(ctx), conn.ID, st.Name, err.Error()); ferr != nil {
					return sr, ferr
				}
			}
			return sr, nil
		}
		got, err := db.StorePullPage(ctx, conn.WorkspaceID, conn.ID, st.Name, from.Since, page.Records, page.Next)
		if err != nil {
			return sr, fmt.Errorf("crmsync: pull %s: %w", st.Name, err)
		}
		sr.Pages++
		sr.Applied += got.Applied
		sr.Skipped += got.Skipped
		sr.Deleted += got.Deleted
		sr.Echoes += got.Echoes
		sr.Moved += got.Moved
		sr.Taken += got.Taken
		sr.Conflicts += got.Conflicts
		if page.Next == "" {
			sr.Complete = true
			return sr, nil
		}
		from.Cursor = page.Next
	}
}
