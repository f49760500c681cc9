package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qwoty/companion/qwoty"
)

// randomToken returns 32 random bytes, base64url: session cookies, setup
// links, OAuth states.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// tokenHash is what is stored of a token: its SHA-256.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CountUsers returns how many users exist (zero: first run).
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// NewSetupToken replaces any unused setup token with a new one valid for
// ttl, and returns it. Only its hash is stored.
func (db *DB) NewSetupToken(ctx context.Context, ttl time.Duration) (string, error) {
	token := randomToken()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM setup_tokens WHERE used_at IS NULL`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)`, tokenHash(token), db.now().Add(ttl))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: new setup token: %w", err)
	}
	return token, nil
}

// SetupTokenValid reports whether a setup token may still create the first
// admin.
func (db *DB) SetupTokenValid(ctx context.Context, token string) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)
		AND NOT EXISTS (SELECT 1 FROM users)`, tokenHash(token), db.now()).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("store: check setup token: %w", err)
	}
	return ok, nil
}

// NewUser is a user to create.
type NewUser struct {
	Email        string
	Name         string
	Role         qwoty.Role
	PasswordHash string
}

// CreateFirstAdmin uses a setup token to create the first workspace and its
// admin. It fails when the token is not valid or a user exists already, so
// the link works once.
func (db *DB) CreateFirstAdmin(ctx context.Context, token, workspace string, u NewUser) (*qwoty.User, error) {
	var out *qwoty.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// Serialise concurrent setups: only one may see "no users".
		if _, err := tx.Exec(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE setup_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
			AND NOT EXISTS (SELECT 1 FROM users)`, tokenHash(token), db.now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return qwoty.Errorf(qwoty.CodeForbidden, "Restart the server to print a new setup link, or log in if an admin exists.",
				"this setup link is used, expired, or not valid")
		}
		var wsID string
		if err := tx.QueryRow(ctx, `INSERT INTO workspaces (name) VALUES ($1)
			ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`, workspace).Scan(&wsID); err != nil {
			return err
		}
		u.Role = qwoty.RoleAdmin
		out, err = insertUser(ctx, tx, wsID, u)
		if err != nil {
			return err
		}
		return audit(ctx, tx, wsID, "", u.Email, "user.first_admin_created", map[string]any{"email": u.Email})
	})
	if err != nil {
		return nil, fmt.Errorf("store: create first admin: %w", err)
	}
	return out, nil
}

// CreateUser adds a user to a workspace.
func (db *DB) CreateUser(ctx context.Context, workspaceID string, u NewUser, actor string) (*qwoty.User, error) {
	var out *qwoty.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if out, err = insertUser(ctx, tx, workspaceID, u); err != nil {
			return err
		}
		return audit(ctx, tx, workspaceID, "", actor, "user.created", map[string]any{"email": u.Email, "role": u.Role})
	})
	if err != nil {
		return nil, fmt.Errorf("store: create user %s: %w", u.Email, err)
	}
	return out, nil
}

func insertUser(ctx context.Context, tx pgx.Tx, workspaceID string, u NewUser) (*qwoty.User, error) {
	email := strings.ToLower(strings.TrimSpace(u.Email))
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO users (workspace_id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		workspaceID, email, strings.TrimSpace(u.Name), u.Role, u.PasswordHash).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return nil, qwoty.Errorf(qwoty.CodeValidation, "Use another email address.", "a user with email %s exists already", email)
	}
	if err != nil {
		return nil, err
	}
	return &qwoty.User{ID: id, WorkspaceID: workspaceID, Email: email, Name: u.Name, Role: u.Role}, nil
}

const userColumns = `u.id, u.workspace_id, w.name, u.email, u.name, u.role, coalesce(u.last_login_at, 'epoch')`

func scanUser(row pgx.Row, extra ...any) (*qwoty.User, error) {
	var u qwoty.User
	dest := append([]any{&u.ID, &u.WorkspaceID, &u.Workspace, &u.Email, &u.Name, &u.Role, &u.LastLoginAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, qwoty.ErrNotFound
		}
		return nil, err
	}
	return &u, nil
}

// UserForLogin returns the user with this email and its password hash.
func (db *DB) UserForLogin(ctx context.Context, email string) (*qwoty.User, string, error) {
	var hash string
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u JOIN workspaces w ON w.id = u.workspace_id
		WHERE lower(u.email) = lower($1) AND NOT u.disabled`, strings.TrimSpace(email)), &hash)
	if err != nil {
		return nil, "", fmt.Errorf("store: user for login: %w", err)
	}
	return u, hash, nil
}

// ListUsers returns a workspace's users by email.
func (db *DB) ListUsers(ctx context.Context, workspaceID string) ([]qwoty.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userColumns+` FROM users u JOIN workspaces w ON w.id = u.workspace_id
		WHERE u.workspace_id = $1 ORDER BY u.email`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (qwoty.User, error) {
		u, err := scanUser(r)
		if err != nil {
			return qwoty.User{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return out, nil
}

// Session is a logged-in console session.
type Session struct {
	User      *qwoty.User
	CSRFToken string
	ExpiresAt time.Time
}

// CreateSession opens a session for a user and returns its cookie value.
func (db *DB) CreateSession(ctx context.Context, userID string, ttl time.Duration) (string, *Session, error) {
	token, csrf := randomToken(), randomToken()
	exp := db.now().Add(ttl)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)`,
			tokenHash(token), userID, csrf, exp); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE users SET last_login_at = $2 WHERE id = $1`, userID, db.now())
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("store: create session: %w", err)
	}
	s, err := db.SessionByToken(ctx, token)
	return token, s, err
}

// SessionByToken returns the live session of a cookie value.
func (db *DB) SessionByToken(ctx context.Context, token string) (*Session, error) {
	s := &Session{}
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+`, s.csrf_token, s.expires_at FROM sessions s
		JOIN users u ON u.id = s.user_id JOIN workspaces w ON w.id = u.workspace_id
		WHERE s.id_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`, tokenHash(token), db.now()), &s.CSRFToken, &s.ExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("store: session: %w", err)
	}
	s.User = u
	return s, nil
}

// DeleteSession ends a session (logout).
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, tokenHash(token)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}
