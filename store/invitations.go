package store

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// InvitationTTL is how long an invitation's link works (docs/admin-guide.md).
// Resending makes a new link, valid as long again, and kills the old one.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation is a pending (or past) invitation to a workspace.
type Invitation struct {
	ID          string
	WorkspaceID string
	Workspace   string
	Email       string
	Role        qwoty.Role
	InvitedBy   string
	CreatedAt   time.Time
	SentAt      time.Time
	ExpiresAt   time.Time
}

// Expired reports whether the invitation's link no longer works at now.
func (i *Invitation) Expired(now time.Time) bool { return !now.Before(i.ExpiresAt) }

// errAlreadyMember refuses to invite an email that has an account.
func errAlreadyMember(email string) error {
	return qwoty.Errorf(qwoty.CodeAlreadyMember, "They can log in already; an address has one account.",
		"%s is already a member of a Qwoty workspace", email)
}

// errInvitation refuses an invitation link; why says what is wrong with it.
func errInvitation(why string) error {
	return qwoty.Errorf(qwoty.CodeInvitationInvalid, "Ask the admin who invited you to resend the invitation.", "this invitation link %s", why)
}

// Invite invites email to a workspace with role and returns the link's
// token (only its hash is kept). Inviting an address that has an open
// invitation replaces it (new token, new expiry, new role): the old link
// stops working. An address that has an account is refused.
func (db *DB) Invite(ctx context.Context, workspaceID, email string, role qwoty.Role, by string) (string, *Invitation, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	token := randomToken()
	now := db.now()
	inv := &Invitation{WorkspaceID: workspaceID, Email: email, Role: role, InvitedBy: by, SentAt: now, ExpiresAt: now.Add(InvitationTTL)}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var member bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = $1)`, email).Scan(&member); err != nil {
			return err
		}
		if member {
			return errAlreadyMember(email)
		}
		err := tx.QueryRow(ctx, `INSERT INTO invitations (workspace_id, email, role, token_hash, invited_by, created_at, sent_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
			ON CONFLICT (workspace_id, lower(email)) WHERE accepted_at IS NULL AND revoked_at IS NULL
			DO UPDATE SET role = EXCLUDED.role, token_hash = EXCLUDED.token_hash, invited_by = EXCLUDED.invited_by,
				sent_at = EXCLUDED.sent_at, expires_at = EXCLUDED.expires_at
			RETURNING id, created_at`, workspaceID, email, role, tokenHash(token), by, now, inv.ExpiresAt).Scan(&inv.ID, &inv.CreatedAt)
		if err != nil {
			return err
		}
		return audit(ctx, tx, workspaceID, "", by, "user.invited", map[string]any{"email": email, "role": role})
	})
	if err != nil {
		return "", nil, fmt.Errorf("store: invite %s: %w", email, err)
	}
	return token, inv, nil
}

// ResendInvitation gives an open invitation a new token and a new expiry
// (the old link stops working) and returns the token and the invitation.
func (db *DB) ResendInvitation(ctx context.Context, workspaceID, id, by string) (string, *Invitation, error) {
	if !validID(id) {
		return "", nil, fmt.Errorf("store: resend invitation: %w", qwoty.ErrNotFound)
	}
	token := randomToken()
	now := db.now()
	inv := &Invitation{}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE invitations SET token_hash = $3, sent_at = $4, expires_at = $5, invited_by = $6
			WHERE id = $1 AND workspace_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL
			RETURNING id, workspace_id, email, role, invited_by, created_at, sent_at, expires_at`,
			id, workspaceID, tokenHash(token), now, now.Add(InvitationTTL), by).Scan(
			&inv.ID, &inv.WorkspaceID, &inv.Email, &inv.Role, &inv.InvitedBy, &inv.CreatedAt, &inv.SentAt, &inv.ExpiresAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return qwoty.ErrNotFound
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, workspaceID, "", by, "user.invitation_resent", map[string]any{"email": inv.Email})
	})
	if err != nil {
		return "", nil, fmt.Errorf("store: resend invitation: %w", err)
	}
	return token, inv, nil
}

// RevokeInvitation ends an open invitation: its link stops working.
func (db *DB) RevokeInvitation(ctx context.Context, workspaceID, id, by string) error {
	if !validID(id) {
		return fmt.Errorf("store: revoke invitation: %w", qwoty.ErrNotFound)
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var email string
		err := tx.QueryRow(ctx, `UPDATE invitations SET revoked_at = $3
			WHERE id = $1 AND workspace_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL RETURNING email`,
			id, workspaceID, db.now()).Scan(&email)
		if errors.Is(err, pgx.ErrNoRows) {
			return qwoty.ErrNotFound
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, workspaceID, "", by, "user.invitation_revoked", map[string]any{"email": email})
	})
	if err != nil {
		return fmt.Errorf("store: revoke invitation: %w", err)
	}
	return nil
}

// PendingInvitations lists a workspace's open invitations (expired ones
// too, until resent or revoked), newest first.
func (db *DB) PendingInvitations(ctx context.Context, workspaceID string) ([]Invitation, error) {
	rows, err := db.pool.Query(ctx, `SELECT i.id, i.workspace_id, w.name, i.email, i.role, i.invited_by, i.created_at, i.sent_at, i.expires_at
		FROM invitations i JOIN workspaces w ON w.id = i.workspace_id
		WHERE i.workspace_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL ORDER BY i.created_at DESC LIMIT 500`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: invitations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invitation, error) {
		var i Invitation
		return i, r.Scan(&i.ID, &i.WorkspaceID, &i.Workspace, &i.Email, &i.Role, &i.InvitedBy, &i.CreatedAt, &i.SentAt, &i.ExpiresAt)
	})
	if err != nil {
		return nil, fmt.Errorf("store: invitations: %w", err)
	}
	return out, nil
}

// InvitationByToken returns the open invitation of a link's token, or an
// invitation_invalid error that says whether it expired, was used or
// revoked, or is not a link of ours.
func (db *DB) InvitationByToken(ctx context.Context, token string) (*Invitation, error) {
	inv, err := db.invitationByToken(ctx, db.pool, token, false)
	if err != nil {
		return nil, fmt.Errorf("store: invitation: %w", err)
	}
	return inv, nil
}

type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (db *DB) invitationByToken(ctx context.Context, q queryer, token string, lock bool) (*Invitation, error) {
	if token == "" || len(token) > 100 {
		return nil, errInvitation("is not valid: copy the whole link from the email")
	}
	want := tokenHash(token)
	var inv Invitation
	var stored []byte
	var accepted, revoked *time.Time
	sql := `SELECT i.id, i.workspace_id, w.name, i.email, i.role, i.invited_by, i.created_at, i.sent_at, i.expires_at,
			i.token_hash, i.accepted_at, i.revoked_at
		FROM invitations i JOIN workspaces w ON w.id = i.workspace_id WHERE i.token_hash = $1`
	if lock {
		sql += ` FOR UPDATE OF i`
	}
	err := q.QueryRow(ctx, sql, want).Scan(&inv.ID, &inv.WorkspaceID, &inv.Workspace, &inv.Email, &inv.Role, &inv.InvitedBy,
		&inv.CreatedAt, &inv.SentAt, &inv.ExpiresAt, &stored, &accepted, &revoked)
	// The lookup is by the token's hash (an attacker learns nothing from
	// its timing without knowing preimages); the stored hash is compared
	// again in constant time all the same.
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && subtle.ConstantTimeCompare(stored, want) != 1) {
		return nil, errInvitation("is not valid: copy the whole link from the email")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case accepted != nil:
		return nil, errInvitation("was used already: log in with the password you chose")
	case revoked != nil:
		return nil, errInvitation("was revoked by an admin")
	case inv.Expired(db.now()):
		return nil, errInvitation(fmt.Sprintf("expired on %s (links work %d days)", inv.ExpiresAt.UTC().Format("2 Jan 2006"), int(InvitationTTL.Hours()/24)))
	}
	return &inv, nil
}

// AcceptInvitation uses an invitation's token, once: it creates the
// invitee's account with name and password hash, in the invitation's
// workspace and role, and marks the invitation accepted.
func (db *DB) AcceptInvitation(ctx context.Context, token, name, passwordHash string) (*qwoty.User, error) {
	var out *qwoty.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		inv, err := db.invitationByToken(ctx, tx, token, true)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invitations SET accepted_at = $2 WHERE id = $1`, inv.ID, db.now()); err != nil {
			return err
		}
		out, err = insertUser(ctx, tx, inv.WorkspaceID, NewUser{Email: inv.Email, Name: name, Role: inv.Role, PasswordHash: passwordHash})
		var qe *qwoty.Error
		if errors.As(err, &qe) && qe.Code == qwoty.CodeValidation {
			return errAlreadyMember(inv.Email) // an account was made meanwhile
		}
		if err != nil {
			return err
		}
		out.Workspace = inv.Workspace
		return audit(ctx, tx, inv.WorkspaceID, "", inv.Email, "user.invitation_accepted", map[string]any{"email": inv.Email, "role": inv.Role})
	})
	if err != nil {
		return nil, fmt.Errorf("store: accept invitation: %w", err)
	}
	return out, nil
}
