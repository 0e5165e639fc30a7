-- leadpipe warehouse, version 8: every stored blocking key has its block id (NOT NULL).
-- Documented column by column in docs/warehouse.md. Keys stored before version 6 have no id;
-- they are dropped here (all of them, as the stored keys are one set), and the next dedupe run
-- computes the keys of every clustered lead again, as it does for a warehouse with none. A run
-- then no longer has to look for keys without an id.

DELETE FROM lead_blocking_keys WHERE EXISTS (SELECT 1 FROM lead_blocking_keys WHERE block IS NULL);
ALTER TABLE lead_blocking_keys ALTER block SET NOT NULL;
