-- leadpipe warehouse, version 2: the matching engine's tables.
-- Documented column by column in docs/warehouse.md.

-- Blocking keys of every clustered lead, one row per (lead, rule) with a key, so a new batch
-- finds its candidates by joining on keys instead of re-reading every lead.
CREATE TABLE lead_blocking_keys (
    lead_id BIGINT NOT NULL,
    rule    VARCHAR NOT NULL,
    key     VARCHAR NOT NULL
);

-- Every scored candidate pair (lead_id_l < lead_id_r), with each comparison's level and weight.
CREATE TABLE match_pairs (
    lead_id_l            BIGINT NOT NULL,
    lead_id_r            BIGINT NOT NULL,
    blocking_rules       VARCHAR[] NOT NULL,
    level_first_name     VARCHAR,
    weight_first_name    DOUBLE,
    level_last_name      VARCHAR,
    weight_last_name     DOUBLE,
    level_email          VARCHAR,
    weight_email         DOUBLE,
    level_phone          VARCHAR,
    weight_phone         DOUBLE,
    level_company        VARCHAR,
    weight_company       DOUBLE,
    level_street         VARCHAR,
    weight_street        DOUBLE,
    level_city           VARCHAR,
    weight_city          DOUBLE,
    level_postal_code    VARCHAR,
    weight_postal_code   DOUBLE,
    prior_weight         DOUBLE NOT NULL,
    match_weight         DOUBLE NOT NULL,
    match_probability    DOUBLE NOT NULL,
    decision             VARCHAR NOT NULL,
    decided_by           VARCHAR NOT NULL,
    created_at           TIMESTAMP NOT NULL
);

-- Human or rule labels on pairs: they override the model in every later run.
CREATE TABLE match_labels (
    lead_id_l  BIGINT NOT NULL,
    lead_id_r  BIGINT NOT NULL,
    label      VARCHAR NOT NULL,
    source     VARCHAR NOT NULL,
    note       VARCHAR,
    created_at TIMESTAMP NOT NULL
);

-- What happened to clusters: a lead joined, clusters merged, a weak cluster was split, an unmerge.
CREATE TABLE cluster_events (
    event_id         BIGINT NOT NULL,
    event            VARCHAR NOT NULL,
    cluster_id       BIGINT NOT NULL,
    other_cluster_id BIGINT,
    lead_id          BIGINT,
    detail           VARCHAR,
    created_at       TIMESTAMP NOT NULL
);

-- One golden record per cluster; provenance says which lead each value came from.
CREATE TABLE lead_golden (
    cluster_id           BIGINT NOT NULL,
    lead_count           INTEGER NOT NULL,
    lead_ids             BIGINT[] NOT NULL,
    source_kinds         VARCHAR[] NOT NULL,
    first_seen_at        TIMESTAMP,
    last_seen_at         TIMESTAMP,
    salutation           VARCHAR,
    first_name           VARCHAR,
    last_name            VARCHAR,
    title                VARCHAR,
    company              VARCHAR,
    company_key          VARCHAR,
    email                VARCHAR,
    email_domain         VARCHAR,
    is_freemail          BOOLEAN,
    phone                VARCHAR,
    mobile_phone         VARCHAR,
    website              VARCHAR,
    website_domain       VARCHAR,
    company_domain       VARCHAR,
    street               VARCHAR,
    city                 VARCHAR,
    state                VARCHAR,
    postal_code          VARCHAR,
    country              VARCHAR,
    industry             VARCHAR,
    annual_revenue       VARCHAR,
    number_of_employees  VARCHAR,
    lead_source          VARCHAR,
    provenance           JSON,
    updated_at           TIMESTAMP NOT NULL
);

-- The fitted match model (m and u per comparison level, the prior), reused by incremental runs.
CREATE TABLE match_models (
    model_id    BIGINT NOT NULL,
    fitted_at   TIMESTAMP NOT NULL,
    pairs_used  BIGINT NOT NULL,
    prior       DOUBLE NOT NULL,
    parameters  JSON NOT NULL,
    settings    JSON NOT NULL
);
