package pipedrive_test

import (
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
)

func sessionOf(e *pullEnv) crm.Session { return session.New(e.db, e.a, e.conn) }

func budgetOf() crm.Budget { return synctest.NewBudget() }
