-- leadpipe warehouse, version 11: a pipeline run records how many pairs wait for a person when it
-- finishes (what `leadpipe review export` would list: the uncertain pairs and the matched pairs
-- kept in different clusters, of this run and earlier ones, that nobody labelled), beside the
-- uncertain pairs the run itself scored (review_pairs). Documented in docs/warehouse.md. Runs
-- recorded before this version have NULL here (not counted).

ALTER TABLE pipeline_runs ADD COLUMN review_queue BIGINT;
