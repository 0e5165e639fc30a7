-- leadpipe warehouse, version 4: operations (pipeline runs).
-- Documented column by column in docs/warehouse.md. One row per pipeline run, written by the run
-- itself: inserted as 'running' when it starts, completed (or failed) when it ends. Every count is
-- computed from the warehouse tables (batches of the run, cluster events, assignments, leads), not
-- taken from the stages' return values.

CREATE TABLE pipeline_runs (
    run_id               BIGINT PRIMARY KEY,
    trigger              VARCHAR NOT NULL,
    flow_run_id          VARCHAR,
    status               VARCHAR NOT NULL,
    error                VARCHAR,
    host                 VARCHAR,
    pid                  INTEGER,
    started_at           TIMESTAMP NOT NULL,
    finished_at          TIMESTAMP,
    duration_seconds     DOUBLE,
    files                INTEGER NOT NULL,
    files_loaded         INTEGER NOT NULL DEFAULT 0,
    files_already_loaded INTEGER NOT NULL DEFAULT 0,
    files_failed         INTEGER NOT NULL DEFAULT 0,
    batch_ids            BIGINT[],
    rows_read            BIGINT NOT NULL DEFAULT 0,
    rows_loaded          BIGINT NOT NULL DEFAULT 0,
    rows_rejected        BIGINT NOT NULL DEFAULT 0,
    rows_skipped         BIGINT NOT NULL DEFAULT 0,
    duplicate_leads      BIGINT NOT NULL DEFAULT 0,
    new_clusters         BIGINT NOT NULL DEFAULT 0,
    merges               BIGINT NOT NULL DEFAULT 0,
    mqls                 BIGINT NOT NULL DEFAULT 0,
    assignments          BIGINT NOT NULL DEFAULT 0,
    assignments_by_rep   JSON,
    conversions          BIGINT NOT NULL DEFAULT 0,
    stage_seconds        JSON
);
