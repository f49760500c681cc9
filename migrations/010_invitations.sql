-- Team invitations: a member is invited by email with a role.
CREATE TABLE invitations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id   uuid NOT NULL REFERENCES workspaces(id),
    email          text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
