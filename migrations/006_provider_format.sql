-- A connection's CRM is any CRM this server registers an adapter for
-- (crm.Registry), not one of three names written here: adding a CRM adds an
-- adapter, not a migration. The column keeps the form every provider name
-- has, lower-case letters and digits, as the registry requires (it is a URL
-- segment too: /embed/{provider}/card).
ALTER TABLE connections DROP CONSTRAINT connections_provider_check;
ALTER TABLE connections ADD CONSTRAINT connections_provider_format CHECK (provider ~ '^[a-z][a-z0-9]{1,30}$');
