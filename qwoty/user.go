package qwoty

import "time"

// Role is what a user may do in their workspace.
type Role string

// Roles. Only admins change integrations; members and viewers see them.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// ParseRole returns the role named s, or false.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case RoleAdmin, RoleMember, RoleViewer:
		return r, true
	}
	return "", false
}

// CanManageIntegrations reports whether the role may connect, test, rotate
// and disconnect CRMs, and manage users.
func (r Role) CanManageIntegrations() bool { return r == RoleAdmin }

// User is a person who logs in to the console.
type User struct {
	ID          string
	WorkspaceID string
	Workspace   string
	Email       string
	Name        string
	Role        Role
	LastLoginAt time.Time
}
