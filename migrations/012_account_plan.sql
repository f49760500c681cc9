-- What the admin says of the CRM account's API allowance when the CRM's
-- API does not tell it (Pipedrive's daily token budget is 30,000 × the
-- plan's multiplier × the seats): '' and 0 mean the smallest allowance.
ALTER TABLE connections ADD COLUMN crm_plan text NOT NULL DEFAULT '' CHECK (length(crm_plan) <= 40);
ALTER TABLE connections ADD COLUMN crm_seats integer NOT NULL DEFAULT 0 CHECK (crm_seats BETWEEN 0 AND 100000);
