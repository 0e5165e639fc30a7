-- leadpipe warehouse, version 1: batches, leads, rejects, CRM tables, routing state.
-- Documented column by column in docs/warehouse.md. No PRIMARY KEY on the large tables:
-- DuckDB rewrites indexed rows on UPDATE and checks constraints eagerly, which costs more than
-- it protects here; ids are assigned by the single writer inside each load's transaction.

CREATE TABLE import_batches (
    batch_id        BIGINT PRIMARY KEY,
    source_file     VARCHAR NOT NULL,
    source_kind     VARCHAR NOT NULL,
    file_sha256     VARCHAR NOT NULL,
    file_size       BIGINT,
    file_format     VARCHAR,
    encoding        VARCHAR,
    delimiter       VARCHAR,
    header_row      INTEGER,
    column_mapping  JSON,
    unmapped_columns VARCHAR[],
    rows_read       BIGINT NOT NULL DEFAULT 0,
    rows_loaded     BIGINT NOT NULL DEFAULT 0,
    rows_rejected   BIGINT NOT NULL DEFAULT 0,
    rows_skipped    BIGINT NOT NULL DEFAULT 0,
    status          VARCHAR NOT NULL,
    error           VARCHAR,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP
);

CREATE TABLE leads (
    lead_id                  BIGINT NOT NULL,
    batch_id                 BIGINT NOT NULL,
    source_file              VARCHAR NOT NULL,
    source_kind              VARCHAR NOT NULL,
    source_row               BIGINT NOT NULL,
    lead_source              VARCHAR,
    salutation               VARCHAR,
    first_name               VARCHAR,
    last_name                VARCHAR NOT NULL,
    title                    VARCHAR,
    company                  VARCHAR NOT NULL,
    company_key              VARCHAR,
    email                    VARCHAR,
    email_domain             VARCHAR,
    is_freemail              BOOLEAN,
    phone                    VARCHAR,
    phone_raw                VARCHAR,
    mobile_phone             VARCHAR,
    mobile_phone_raw         VARCHAR,
    website                  VARCHAR,
    website_domain           VARCHAR,
    company_domain           VARCHAR,
    street                   VARCHAR,
    city                     VARCHAR,
    state                    VARCHAR,
    postal_code              VARCHAR,
    country                  VARCHAR,
    country_raw              VARCHAR,
    industry                 VARCHAR,
    annual_revenue           VARCHAR,
    number_of_employees      VARCHAR,
    description              VARCHAR,
    external_id              VARCHAR,
    submitted_at             TIMESTAMP,
    form_name                VARCHAR,
    campaign                 VARCHAR,
    has_opted_out_of_email   BOOLEAN,
    do_not_call              BOOLEAN,
    extra                    JSON,
    status                   VARCHAR NOT NULL DEFAULT 'Open - Not Contacted',
    score                    INTEGER,
    grade                    VARCHAR,
    owner_id                 VARCHAR,
    cluster_id               BIGINT,
    is_converted             BOOLEAN NOT NULL DEFAULT false,
    converted_account_id     BIGINT,
    converted_contact_id     BIGINT,
    converted_opportunity_id BIGINT,
    converted_at             TIMESTAMP,
    created_at               TIMESTAMP NOT NULL,
    updated_at               TIMESTAMP NOT NULL
);

CREATE TABLE lead_rejects (
    batch_id     BIGINT NOT NULL,
    source_file  VARCHAR NOT NULL,
    source_row   BIGINT NOT NULL,
    reasons      VARCHAR[] NOT NULL,
    raw_record   JSON,
    raw_line     VARCHAR,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE accounts (
    account_id          BIGINT PRIMARY KEY,
    name                VARCHAR NOT NULL,
    company_key         VARCHAR,
    domain              VARCHAR,
    website             VARCHAR,
    phone               VARCHAR,
    industry            VARCHAR,
    annual_revenue      VARCHAR,
    number_of_employees VARCHAR,
    billing_street      VARCHAR,
    billing_city        VARCHAR,
    billing_state       VARCHAR,
    billing_postal_code VARCHAR,
    billing_country     VARCHAR,
    owner_id            VARCHAR,
    source_lead_id      BIGINT,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);

CREATE TABLE contacts (
    contact_id          BIGINT PRIMARY KEY,
    account_id          BIGINT NOT NULL,
    salutation          VARCHAR,
    first_name          VARCHAR,
    last_name           VARCHAR NOT NULL,
    title               VARCHAR,
    email               VARCHAR,
    phone               VARCHAR,
    mobile_phone        VARCHAR,
    mailing_street      VARCHAR,
    mailing_city        VARCHAR,
    mailing_state       VARCHAR,
    mailing_postal_code VARCHAR,
    mailing_country     VARCHAR,
    lead_source         VARCHAR,
    has_opted_out_of_email BOOLEAN,
    do_not_call         BOOLEAN,
    owner_id            VARCHAR,
    source_lead_id      BIGINT,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);

CREATE TABLE opportunities (
    opportunity_id BIGINT PRIMARY KEY,
    account_id     BIGINT NOT NULL,
    contact_id     BIGINT,
    name           VARCHAR NOT NULL,
    stage          VARCHAR NOT NULL,
    close_date     DATE NOT NULL,
    amount         DECIMAL(18, 2),
    lead_source    VARCHAR,
    owner_id       VARCHAR,
    source_lead_id BIGINT,
    created_at     TIMESTAMP NOT NULL
);

CREATE TABLE reps (
    rep_id     VARCHAR PRIMARY KEY,
    name       VARCHAR,
    active     BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE routing_state (
    queue          VARCHAR PRIMARY KEY,
    next_position  BIGINT NOT NULL,
    assigned_total BIGINT NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);

CREATE TABLE assignments (
    lead_id     BIGINT NOT NULL,
    owner_id    VARCHAR NOT NULL,
    rule        VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    assigned_at TIMESTAMP NOT NULL
);
