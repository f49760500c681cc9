-- Issue 16, the archive: each sent version of a quote has its PDF filed
-- on its CRM record (docs/sync.md, "PDFs on the deal"), exactly once.
--
-- A row is made in the transaction of the quote's move to sent, with the
-- quote_archive job (store.queueArchive); the job moves it to 'uploading'
-- before it sends the file (a retry that finds it there looks for the file
-- on the record before sending again) and to 'done' with the CRM's id
-- after. A permanent failure ends it 'failed' (its sync log row says why).
CREATE TABLE quote_archives (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id     uuid NOT NULL REFERENCES workspaces(id),
    connection_id    uuid NOT NULL REFERENCES connections(id),
    quote_id         uuid NOT NULL REFERENCES quotes(id),
    revision         integer NOT NULL CHECK (revision >= 1),
    crm_record_id    text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'uploading', 'done', 'failed')),
    file_name        text NOT NULL DEFAULT '',
    crm_file_id      text NOT NULL DEFAULT '',
    attempts         integer NOT NULL DEFAULT 0,
    last_error_code  text NOT NULL DEFAULT '',
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    done_at          timestamptz,
    UNIQUE (quote_id, revision)
);
CREATE INDEX quote_archives_connection ON quote_archives (connection_id, state);

-- Filing the PDF is a sync trigger of its own, on by default: existing
-- settings get it too.
ALTER TABLE sync_settings ALTER COLUMN triggers SET DEFAULT '{created,status,primary,edit,archive}';
UPDATE sync_settings SET triggers = array_append(triggers, 'archive') WHERE NOT 'archive' = ANY(triggers);
