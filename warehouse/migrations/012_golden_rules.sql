-- leadpipe warehouse, version 12: the survivorship rules ([dedup.survivorship]) the golden records
-- were built with. A dedup run that finds other rules (or none recorded, in a warehouse that has
-- golden records) rebuilds every golden record and records the rules it used: a change of the
-- rules applies to every cluster, not only to those a later run touches. Documented in
-- docs/warehouse.md.

CREATE TABLE golden_rules (
    rules_id       BIGINT PRIMARY KEY,
    rules          JSON NOT NULL,
    applied_at     TIMESTAMP NOT NULL,
    golden_records BIGINT NOT NULL
);
