package crm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/qwoty/companion/qwoty"
)

// oneTokenSession hands every call the same token, as a session with a
// fresh token does.
type oneTokenSession struct{ conn *qwoty.Connection }

func (s oneTokenSession) Connection() *qwoty.Connection { return s.conn }
func (s oneTokenSession) Call(ctx context.Context, fn func(context.Context, string) error) error {
	return fn(ctx, "tok")
}

func TestTestAccount(t *testing.T) {
	in := Info{Provider: "acme", Name: "Acme", Account: "tenant"}
	s := oneTokenSession{&qwoty.Connection{ExternalID: "42"}}
	explain := func(err error) Problem {
		return Problem{Code: qwoty.CodeCRMUnreachable, Message: "unreachable", Fix: "check", Detail: err.Error()}
	}
	acting := func(id string, err error) Whoami {
		return func(_ context.Context, tok string) (string, string, error) {
			if tok != "tok" {
				t.Fatalf("whoami got token %q", tok)
			}
			return id, "tenant_id " + id, err
		}
	}

	r := TestAccount(t.Context(), s, in, acting("42", nil), explain)
	if !r.OK || r.Code != "" || len(r.Steps) != 2 || !r.Steps[0].OK || !r.Steps[1].OK {
		t.Fatalf("the connected tenant: %+v", r)
	}
	if r.Steps[0].Title != "Qwoty reaches your tenant" || r.Steps[1].Message != "The access is to tenant 42." {
		t.Errorf("steps are worded for the CRM: %+v", r.Steps)
	}

	r = TestAccount(t.Context(), s, in, acting("7", nil), explain)
	if r.OK || r.Code != qwoty.CodeTestFailed || !r.Steps[0].OK || r.Steps[1].OK {
		t.Fatalf("another tenant: %+v", r)
	}
	if want := "Acme's access is to tenant 7, not to the connected tenant 42."; r.Steps[1].Message != want || r.Steps[1].Detail != "tenant_id 7" {
		t.Errorf("another tenant's step = %+v, want message %q", r.Steps[1], want)
	}

	r = TestAccount(t.Context(), s, in, acting("", errors.New("dial tcp: refused")), explain)
	if r.OK || r.Code != qwoty.CodeCRMUnreachable || r.Steps[0].OK || !r.Steps[1].Skipped {
		t.Fatalf("a failed call: %+v", r)
	}
	if !strings.Contains(r.Steps[0].Detail, "refused") {
		t.Errorf("the failed step keeps the raw error: %+v", r.Steps[0])
	}
}
