-- Field mappings and conflicts. A connection's mappings say which Qwoty
-- value goes to (or comes from) which CRM field, which way, and who wins
-- when both sides changed; a conflict under the manual policy waits here
-- for an admin to pick a value. The values both sides held at the last
-- sync are the base of the three-way merge.
CREATE TABLE field_mappings (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connection_id  uuid NOT NULL REFERENCES connections(id),
    workspace_id   uuid NOT NULL REFERENCES workspaces(id),
    qwoty_field    text NOT NULL,
    crm_object     text NOT NULL CHECK (crm_object IN ('customer', 'deal')),
    crm_field      text NOT NULL,
    direction      text NOT NULL CHECK (direction IN ('push', 'pull', 'both')),
    policy         text NOT NULL CHECK (policy IN ('crm_wins', 'qwoty_wins', 'last_write_wins', 'manual')),
    value_map      jsonb NOT NULL DEFAULT '{}',
    standard       boolean NOT NULL DEFAULT false,
    -- Why the mapping stopped working ('' while it works), found by the
    -- daily check against the CRM's fields.
    broken         text NOT NULL DEFAULT '',
    checked_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- One mapping per CRM field and one per Qwoty value a connection pulls.
    UNIQUE (connection_id, crm_object, crm_field)
);
CREATE INDEX field_mappings_connection ON field_mappings (connection_id);

-- The value of a mapped field both sides held at the last sync, per record.
CREATE TABLE sync_base (
    connection_id  uuid NOT NULL REFERENCES connections(id),
    crm_object     text NOT NULL,
    crm_id         text NOT NULL,
    mapping_id     uuid NOT NULL REFERENCES field_mappings(id) ON DELETE CASCADE,
    value          text NOT NULL,
    synced_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, crm_object, crm_id, mapping_id)
);

-- Conflicts waiting for an admin (policy manual, or a stage the quote's
-- lifecycle refuses). At most one open conflict per record and mapping.
CREATE TABLE sync_conflicts (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connection_id  uuid NOT NULL REFERENCES connections(id),
    workspace_id   uuid NOT NULL REFERENCES workspaces(id),
    crm_object     text NOT NULL,
    crm_id         text NOT NULL,
    quote_id       uuid REFERENCES quotes(id),
    mapping_id     uuid REFERENCES field_mappings(id) ON DELETE SET NULL,
    field_label    text NOT NULL,
    base_value     text NOT NULL DEFAULT '',
    qwoty_value    text NOT NULL,
    crm_value      text NOT NULL,
    reason         text NOT NULL DEFAULT '',
    detected_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz,
    resolved_by    text NOT NULL DEFAULT '',
    chosen         text CHECK (chosen IN ('qwoty', 'crm'))
);
CREATE UNIQUE INDEX sync_conflicts_open ON sync_conflicts (connection_id, crm_object, crm_id, coalesce(mapping_id::text, field_label))
    WHERE resolved_at IS NULL;
CREATE INDEX sync_conflicts_connection ON sync_conflicts (connection_id, detected_at DESC);
