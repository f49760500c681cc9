-- The quote's life (issue 16): what a quote states beside its lines, set
-- out once here so that each part of the issue reads and writes the same
-- columns.
--
-- revision: the quote's current version number. A sent version is frozen
--   in quote_versions (018); revising makes revision + 1 a draft.
-- valid_until: the day after which the quote expires (the workspace's
--   quote_valid_days after it is sent, unless set); NULL: none yet.
-- terms: the terms the customer reads on the page and the PDF.
-- quote_discount_kind, quote_discount_value: a quote-level discount, a
--   percent or an amount in the quote's currency; quote_discount is the
--   amount it came to (computed, like subtotal, discount, tax and total).
-- tax_mode: one tax rate for the quote ('quote', quotes.tax_rate) or a
--   rate per line ('line', quote_line_items.tax_rate).
-- rounding: the rounding policy the quote was priced with, stated on it:
--   per line or per document, half-up or half-even (docs/money.md).
ALTER TABLE quotes
    ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
    ADD COLUMN valid_until date,
    ADD COLUMN terms text NOT NULL DEFAULT '' CHECK (length(terms) <= 10000),
    ADD COLUMN quote_discount_kind text NOT NULL DEFAULT 'none' CHECK (quote_discount_kind IN ('none', 'percent', 'amount')),
    ADD COLUMN quote_discount_value numeric(20,4) NOT NULL DEFAULT 0 CHECK (quote_discount_value >= 0),
    ADD COLUMN quote_discount numeric(20,4) NOT NULL DEFAULT 0,
    ADD COLUMN tax_mode text NOT NULL DEFAULT 'quote' CHECK (tax_mode IN ('quote', 'line')),
    ADD COLUMN rounding text NOT NULL DEFAULT 'line-half-up'
        CHECK (rounding IN ('line-half-up', 'line-half-even', 'document-half-up', 'document-half-even'));

-- A line's own tax rate (tax_mode 'line'; NULL: the quote's), and the tax
-- it came to.
ALTER TABLE quote_line_items
    ADD COLUMN tax_rate numeric(7,4) CHECK (tax_rate >= 0 AND tax_rate <= 100),
    ADD COLUMN tax numeric(20,4) NOT NULL DEFAULT 0;

-- The workspace's defaults for new quotes.
ALTER TABLE workspaces
    ADD COLUMN quote_valid_days integer NOT NULL DEFAULT 30 CHECK (quote_valid_days BETWEEN 1 AND 365),
    ADD COLUMN rounding text NOT NULL DEFAULT 'line-half-up'
        CHECK (rounding IN ('line-half-up', 'line-half-even', 'document-half-up', 'document-half-even')),
    ADD COLUMN quote_terms text NOT NULL DEFAULT '' CHECK (length(quote_terms) <= 10000);
