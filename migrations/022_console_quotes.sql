-- The console's Quotes page (store/console_quotes.go): a workspace's live
-- quotes, newest first, a page at a time (keyset on created_at, id).
CREATE INDEX quotes_workspace_created ON quotes (workspace_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
