-- leadpipe warehouse, version 3: lifecycle (qualification factors, reps and queues for routing,
-- rotation state, the assignments log's cluster and queue, funnel and rep-load views).
-- Documented column by column in docs/warehouse.md.

ALTER TABLE leads ADD COLUMN mql_at TIMESTAMP;

-- Why a cluster scored and graded as it did: its top factors, replaced on every qualification.
CREATE TABLE lead_score_factors (
    cluster_id BIGINT NOT NULL,
    kind       VARCHAR NOT NULL,
    rank       INTEGER NOT NULL,
    factor     VARCHAR NOT NULL,
    points     DOUBLE NOT NULL,
    scored_at  TIMESTAMP NOT NULL
);

ALTER TABLE reps ADD COLUMN email VARCHAR;
ALTER TABLE reps ADD COLUMN weight INTEGER DEFAULT 1;
ALTER TABLE reps ADD COLUMN daily_cap INTEGER;
ALTER TABLE reps ADD COLUMN source VARCHAR DEFAULT 'config';

CREATE TABLE rep_out_of_office (
    rep_id    VARCHAR NOT NULL,
    starts_on DATE NOT NULL,
    ends_on   DATE NOT NULL,
    source    VARCHAR NOT NULL
);

CREATE TABLE queue_members (
    queue_id VARCHAR NOT NULL,
    rep_id   VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    source   VARCHAR NOT NULL
);

ALTER TABLE routing_state ADD COLUMN cycle_signature VARCHAR;

ALTER TABLE assignments ADD COLUMN cluster_id BIGINT;
ALTER TABLE assignments ADD COLUMN queue_id VARCHAR;
ALTER TABLE assignments ADD COLUMN previous_owner_id VARCHAR;

-- Funnel per lead source and week of arrival: leads, people (clusters), MQLs, conversions.
CREATE VIEW v_funnel AS
SELECT
    date_trunc('week', l.created_at)::DATE AS week,
    coalesce(l.lead_source, 'Other') AS lead_source,
    count(*) AS leads,
    count(DISTINCT coalesce(l.cluster_id, l.lead_id)) AS people,
    count(DISTINCT coalesce(l.cluster_id, l.lead_id)) FILTER (WHERE l.mql_at IS NOT NULL OR l.status = 'MQL' OR l.is_converted) AS mqls,
    count(DISTINCT coalesce(l.cluster_id, l.lead_id)) FILTER (WHERE l.is_converted) AS converted,
    round(count(DISTINCT coalesce(l.cluster_id, l.lead_id)) FILTER (WHERE l.mql_at IS NOT NULL OR l.status = 'MQL' OR l.is_converted)
          / count(DISTINCT coalesce(l.cluster_id, l.lead_id)), 4) AS mql_rate,
    round(count(DISTINCT coalesce(l.cluster_id, l.lead_id)) FILTER (WHERE l.is_converted)
          / count(DISTINCT coalesce(l.cluster_id, l.lead_id)), 4) AS conversion_rate
FROM leads l
GROUP BY ALL;

-- Load per owner: open leads and people, MQLs waiting, conversions, today's new clusters.
CREATE VIEW v_rep_load AS
WITH owned AS (
    SELECT owner_id,
        count(*) FILTER (WHERE NOT is_converted AND status NOT LIKE 'Closed%') AS open_leads,
        count(DISTINCT coalesce(cluster_id, lead_id)) FILTER (WHERE NOT is_converted AND status NOT LIKE 'Closed%') AS open_people,
        count(DISTINCT coalesce(cluster_id, lead_id)) FILTER (WHERE NOT is_converted AND status = 'MQL') AS open_mqls,
        count(DISTINCT coalesce(cluster_id, lead_id)) FILTER (WHERE is_converted) AS conversions,
        count(DISTINCT converted_opportunity_id) AS opportunities
    FROM leads WHERE owner_id IS NOT NULL GROUP BY owner_id
),
today AS (
    SELECT owner_id, count(DISTINCT coalesce(cluster_id, lead_id)) AS assigned_today
    FROM assignments WHERE assigned_at::DATE = (now() AT TIME ZONE 'UTC')::DATE GROUP BY owner_id
),
owners AS (
    SELECT rep_id AS owner_id FROM reps
    UNION SELECT owner_id FROM owned
)
SELECT o.owner_id,
    r.name,
    r.rep_id IS NOT NULL AS is_user,
    r.active,
    r.weight,
    r.daily_cap,
    coalesce(w.open_leads, 0) AS open_leads,
    coalesce(w.open_people, 0) AS open_people,
    coalesce(w.open_mqls, 0) AS open_mqls,
    coalesce(w.conversions, 0) AS conversions,
    coalesce(w.opportunities, 0) AS opportunities,
    coalesce(t.assigned_today, 0) AS assigned_today
FROM owners o
LEFT JOIN reps r ON r.rep_id = o.owner_id
LEFT JOIN owned w ON w.owner_id = o.owner_id
LEFT JOIN today t ON t.owner_id = o.owner_id;
