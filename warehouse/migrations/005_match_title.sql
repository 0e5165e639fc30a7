-- leadpipe warehouse, version 5: the matching engine compares job titles.
-- Documented column by column in docs/warehouse.md. Pairs scored before this version have NULL
-- here (the title was not compared).

ALTER TABLE match_pairs ADD COLUMN level_title VARCHAR;
ALTER TABLE match_pairs ADD COLUMN weight_title DOUBLE;
