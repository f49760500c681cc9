-- Placeholder: filled by the part of issue 16 that needs it.
SELECT 1;
