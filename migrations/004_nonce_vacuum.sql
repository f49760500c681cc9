-- seen_nonces takes one insert per callout and loses rows only to the
-- sweep: vacuum it for the sweep's dead rows, not for the inserts, whose
-- insert-triggered vacuums and analyzes compete with callouts for CPU.
ALTER TABLE seen_nonces SET (autovacuum_vacuum_insert_threshold = -1, autovacuum_analyze_threshold = 1000000000);
