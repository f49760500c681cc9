-- Access tokens that expire on a schedule (HubSpot: 30 minutes) are
-- refreshed ahead of their expiry; Salesforce's carry none (NULL).
ALTER TABLE connections ADD COLUMN token_expires_at timestamptz;
