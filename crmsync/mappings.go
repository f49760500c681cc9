package crmsync

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// checkMappingsWorker is the daily check of saved field mappings against
// the CRM's fields: a field deleted in the CRM, made read-only or of
// another type, or a picklist value removed, marks the mapping broken with
// the reason (health turns to warning and names it); a mapping that works
// again is cleared.
type checkMappingsWorker struct {
	river.WorkerDefaults[jobs.SyncCheckMappings]
	e *Engine
}

func (w *checkMappingsWorker) Work(ctx context.Context, _ *river.Job[jobs.SyncCheckMappings]) error {
	ids, err := w.e.db.MappedConnections(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		// One connection's CRM failing does not stop the others' check:
		// it is logged and checked again tomorrow.
		if err := w.e.CheckMappings(ctx, id); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.e.log.Warn("sync: mapping check failed", "connection", id, "err", err)
		}
	}
	return nil
}

// CheckMappings checks one connection's mappings against its CRM's fields
// now and records each verdict. It returns how the CRM could not be read.
func (e *Engine) CheckMappings(ctx context.Context, connectionID string) error {
	conn, err := e.db.ConnectionByID(ctx, connectionID)
	if err != nil {
		return err
	}
	if conn.Status != qwoty.ConnectionActive {
		return nil
	}
	a, ok := e.crms.Get(conn.Provider)
	if !ok {
		return nil
	}
	d, ok := a.(crm.Describer)
	if !ok || a.Sync() == nil {
		return nil
	}
	ms, err := e.db.Mappings(ctx, conn.WorkspaceID, conn.ID)
	if err != nil {
		return err
	}
	set, err := e.db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return err
	}
	b := newBudget(e.db, conn.ID, a.Sync().Buckets(conn, set.BudgetShare))
	s := session.New(e.db, a, conn)
	fields := map[string][]qwoty.CRMField{}
	for _, m := range ms {
		fs, ok := fields[m.Object]
		if !ok {
			if fs, err = d.Fields(ctx, s, b, m.Object); err != nil {
				return fmt.Errorf("crmsync: the CRM's %s fields: %w", m.Object, err)
			}
			fields[m.Object] = fs
		}
		if broken := qwoty.Recheck(m, fs); broken != m.Broken {
			if err := e.db.MarkMapping(ctx, conn.ID, m.ID, broken); err != nil {
				return err
			}
		}
	}
	return nil
}

// DescribeFields lists the fields of object in conn's CRM for the
// console's mapping form, from the connection's shared API budget; nil
// fields (and no error) when the CRM does not describe its fields.
func DescribeFields(ctx context.Context, db *store.DB, a crm.Adapter, conn *qwoty.Connection, object string) ([]qwoty.CRMField, bool, error) {
	d, ok := a.(crm.Describer)
	if !ok || a.Sync() == nil {
		return nil, false, nil
	}
	set, err := db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return nil, true, err
	}
	b := newBudget(db, conn.ID, a.Sync().Buckets(conn, set.BudgetShare))
	fs, err := d.Fields(ctx, session.New(db, a, conn), b, object)
	return fs, true, err
}

// PresetMappings gives conn the standard mappings (qwoty.StandardMappings,
// with the CRM's own field names and its stage map: the CRM's defaults
// and the admin's sync settings) when it has no mapping yet. A CRM that
// does not describe its fields gets none.
func PresetMappings(ctx context.Context, db *store.DB, a crm.Adapter, conn *qwoty.Connection) error {
	d, ok := a.(crm.Describer)
	sy := a.Sync()
	if !ok || sy == nil {
		return nil
	}
	set, err := db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return err
	}
	stages := map[qwoty.Status]string{}
	for st, v := range sy.DefaultStages() {
		stages[st] = v
	}
	for st, v := range set.StageMap {
		stages[st] = v
	}
	return db.PresetMappings(ctx, conn.WorkspaceID, conn.ID, qwoty.StandardMappings(d.StandardField, stages))
}
