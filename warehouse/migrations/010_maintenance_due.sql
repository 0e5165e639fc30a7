-- leadpipe warehouse, version 10: work a change of leadpipe asks the next dedup run to do once,
-- for data written by earlier versions. Documented in docs/warehouse.md.
-- Golden records now choose a field group (the address: street, city, state, postal code,
-- country) among the leads with any of its values, not only those with its first field (the
-- street): a warehouse with golden records has them all rebuilt by its next dedup run.

CREATE TABLE maintenance_due (
    task       VARCHAR PRIMARY KEY,
    reason     VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

INSERT INTO maintenance_due (task, reason)
SELECT 'rebuild_golden', 'golden records choose a field group among the leads with any of its values (2026-12-07)'
WHERE EXISTS (SELECT 1 FROM lead_golden);
