-- leadpipe warehouse, version 9: a pipeline run records how many of the pairs it scored it left
-- for a person to review (between the two thresholds), so that its summary can say so.
-- Documented column by column in docs/warehouse.md. Runs recorded before this version have NULL
-- here (not counted).

ALTER TABLE pipeline_runs ADD COLUMN review_pairs BIGINT;
