-- leadpipe warehouse, version 7: comparison levels and decisions of match_pairs are ENUM types.
-- Documented column by column in docs/warehouse.md. Values read and compare as before
-- (level_email = 'exact' still holds), but each is stored as one byte instead of a string: a run
-- writes and checkpoints its pairs faster, and a value outside the set is refused at insert.
-- The level labels are those of matching.comparisons.LEVELS (every label any version stored);
-- a new label needs a migration of its own (tests/flows/test_dedupe_run.py checks the two agree).

CREATE TYPE match_level AS ENUM (
    'exact', 'nickname', 'transposed', 'close', 'initial', 'partial', 'other_name', 'different',
    'variant', 'same_local', 'other_domain', 'numbered', 'mobile', 'shared_org', 'last7', 'domain',
    'missing'
);
CREATE TYPE match_decision AS ENUM ('match', 'review', 'non_match', 'must_link', 'cannot_link');

ALTER TABLE match_pairs ALTER level_first_name SET DATA TYPE match_level;
ALTER TABLE match_pairs ALTER level_last_name SET DATA TYPE match_level;
ALTER TABLE match_pairs ALTER level_email SET DATA TYPE match_level;
ALTER TABLE match_pairs ALTER level_phone SET DATA TYPE match_level;
ALTER TABLE match_pairs ALTER level_company SET DATA TYPE match_level;
ALTER TABLE match_pairs ALTER level_street SET DATA TYPE match_level;
ALTER TABLE match_pairs ALTER level_city SET DATA TYPE match_level;
ALTER TABLE match_pairs ALTER level_postal_code SET DATA TYPE match_level;
ALTER TABLE match_pairs ALTER level_title SET DATA TYPE match_level;
ALTER TABLE match_pairs ALTER decision SET DATA TYPE match_decision;
