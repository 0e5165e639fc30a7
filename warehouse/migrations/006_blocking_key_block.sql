-- leadpipe warehouse, version 6: each stored blocking key carries its block id.
-- Documented column by column in docs/warehouse.md. An incremental run finds the stored keys its
-- new leads share by joining on this integer instead of on (rule, key) strings. Rows stored before
-- this version have NULL here: the next dedupe run sees that and recomputes the stored keys.

ALTER TABLE lead_blocking_keys ADD COLUMN block UBIGINT;
