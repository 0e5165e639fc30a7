"""Warehouse side of matching: read what a run needs, write what it found.

A run reads the leads without a cluster, the stored blocking keys that equal theirs, the leads
holding them that it can pair with every member of their clusters, the labels touching them or
their clusters, term frequencies and the latest model; it writes keys, scored pairs, cluster ids, cluster events,
golden records and, when refitted, the model.
The writes of one run happen in one transaction (the caller opens it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import polars as pl

from transforms import schema as s
from warehouse.connection import Warehouse

_NEW_KEYS = "_lp_new_keys"
_IDS = "_lp_ids"
_FRAME = "_lp_frame"
_VALUES = "_lp_values"

KEY_COLUMNS = (s.LEAD_ID, "rule", "key", "block")
LABEL_COLUMNS = ("lead_id_l", "lead_id_r", "label", "source")
#: Columns of match_pairs written from a run, in table order.
PAIR_COMPARISONS = ("first_name", "last_name", "email", "phone", "company", "street", "city", "postal_code", "title")
PAIR_COLUMNS = (
    "lead_id_l", "lead_id_r", "blocking_rules",
    *[col for name in PAIR_COMPARISONS for col in (f"level_{name}", f"weight_{name}")],
    "prior_weight", "match_weight", "match_probability", "decision", "decided_by",
)


#: Keeps the newest ``match_pairs`` row of each pair (latest ``created_at``, then the row stored
#: last): a pair stored again by a later run counts by that row everywhere.
_NEWEST_PAIR_ROW = "QUALIFY row_number() OVER (PARTITION BY lead_id_l, lead_id_r ORDER BY created_at DESC, rowid DESC) = 1"


def _ids_frame(ids: Sequence[int] | pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"id": pl.Series(ids, dtype=pl.Int64)}).unique()


def unclustered_leads(wh: Warehouse, columns: Sequence[str]) -> pl.DataFrame:
    """Leads that have no cluster yet (loaded since the last run), by lead id."""
    cols = ", ".join(columns)
    return wh.frame(f"SELECT {cols} FROM leads WHERE cluster_id IS NULL ORDER BY lead_id")


def clustered_without_keys(wh: Warehouse, columns: Sequence[str]) -> pl.DataFrame:
    """Clustered leads with no stored key, when no key is stored at all: a warehouse clustered
    before keys were stored, or whose keys were dropped because the blocking rules changed."""
    if wh.scalar("SELECT EXISTS (SELECT 1 FROM lead_blocking_keys)"):
        return pl.DataFrame()
    cols = ", ".join(f"l.{c}" for c in columns)
    return wh.frame(
        f"SELECT {cols} FROM leads l WHERE l.cluster_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM lead_blocking_keys k WHERE k.lead_id = l.lead_id) ORDER BY l.lead_id"
    )


def stored_keys_sharing(wh: Warehouse, blocks: pl.Series) -> pl.DataFrame:
    """Stored keys (``lead_id``, ``block``) in the given blocks."""
    # on the block id (an integer): several times faster than on (rule, key) strings over millions of keys
    with wh.registered(_NEW_KEYS, pl.DataFrame({"block": blocks}).unique()):
        keys = wh.frame(f"SELECT k.lead_id, k.block FROM lead_blocking_keys k JOIN {_NEW_KEYS} n ON k.block = n.block")
    return keys.sort(s.LEAD_ID, "block")  # in polars: half the time of DuckDB's ORDER BY (117k keys: 6 against 12 ms)


def clusters_of(wh: Warehouse, lead_ids: Sequence[int] | pl.Series, columns: Sequence[str]) -> pl.DataFrame:
    """Every lead of the clusters of the given leads (those that have one), with ``columns`` and
    ``cluster_id``, in no order.

    A run reads in one scan the leads it compares and the other members of their clusters, whose
    golden records it may rebuild: DuckDB reads whole columns of the table to fetch a few thousand
    rows, so two scans would cost about twice one.
    """
    cols = ", ".join(f"l.{c}" for c in columns if c != s.CLUSTER_ID)
    with wh.registered(_IDS, _ids_frame(lead_ids)):
        return wh.frame(
            f"SELECT {cols}, l.cluster_id FROM leads l WHERE l.cluster_id IN "
            f"(SELECT w.cluster_id FROM leads w JOIN {_IDS} i ON w.lead_id = i.id WHERE w.cluster_id IS NOT NULL)"
        )


#: What ``labels_touching`` returns.
LABELS_TOUCHING = {"lead_id_l": pl.Int64, "lead_id_r": pl.Int64, "label": pl.String, "source": pl.String,
                   "cluster_id_l": pl.Int64, "cluster_id_r": pl.Int64, "note": pl.String}


def labels_touching(wh: Warehouse, lead_ids: pl.Series, cluster_ids: pl.Series | None = None) -> pl.DataFrame:
    """Must/cannot-link labels with a side among the leads or in one of the clusters, oldest first,
    with each side's cluster id (``cluster_id_l``, ``cluster_id_r``; null for an unclustered lead)
    and the label's note."""
    if not wh.scalar("SELECT EXISTS (SELECT 1 FROM match_labels)"):
        return pl.DataFrame(schema=LABELS_TOUCHING)  # no label yet (no review, no unmerge): no scan of leads
    clusters = cluster_ids if cluster_ids is not None else pl.Series([], dtype=pl.Int64)
    with wh.registered(_IDS, _ids_frame(lead_ids)), wh.registered(_FRAME, _ids_frame(clusters)):
        return wh.frame(
            "SELECT m.lead_id_l, m.lead_id_r, m.label, m.source, a.cluster_id AS cluster_id_l, b.cluster_id AS cluster_id_r, m.note "
            "FROM match_labels m LEFT JOIN leads a ON a.lead_id = m.lead_id_l LEFT JOIN leads b ON b.lead_id = m.lead_id_r "
            f"WHERE m.lead_id_l IN (SELECT id FROM {_IDS}) OR m.lead_id_r IN (SELECT id FROM {_IDS}) "
            f"OR a.cluster_id IN (SELECT id FROM {_FRAME}) OR b.cluster_id IN (SELECT id FROM {_FRAME}) "
            "ORDER BY m.created_at, m.rowid"  # labels of one import share created_at: then in file order
        )


def term_counts_sql(column: str) -> str:
    """How many leads hold each value of ``_lp_values`` in ``column`` (``count``), and how many hold
    any value there (``total``), values taken as the comparisons take them: trimmed, lower-cased,
    empty = missing."""
    if column in s.LOWER_CASE_COLUMNS:
        # stored normalised (lower-case, trimmed, never empty): joined as is, since lower(trim()) of
        # a million company keys is half the query
        return (
            f"SELECT v.value, count(l.lead_id) AS count, (SELECT count({column}) FROM leads) AS total "
            f"FROM {_VALUES} v JOIN leads l ON l.{column} = v.value GROUP BY v.value"
        )
    # counted per stored value first and lower-cased after: lower(trim()) runs on the distinct
    # names (thousands), not on every lead (first and last names of 1M leads: 30% faster)
    return (
        f"SELECT v.value, c.count, c.total FROM {_VALUES} v JOIN ("
        "SELECT value, sum(held)::BIGINT AS count, (sum(sum(held)) OVER ())::BIGINT AS total FROM ("
        f"SELECT lower(trim({column})) AS value, count(*) AS held FROM leads WHERE {column} IS NOT NULL GROUP BY {column}"
        ") WHERE value <> '' GROUP BY value) c ON c.value = v.value"
    )


def term_frequencies(wh: Warehouse, values: Mapping[str, pl.Series]) -> dict[str, pl.DataFrame]:
    """Per lead column: the share (``tf``, of the leads with a value there) and number (``count``)
    of all leads holding each given lower-case value."""
    unknown = [c for c in values if c not in s.LEAD_DATA_COLUMNS]
    if unknown:
        raise ValueError(f"not a lead column: {', '.join(unknown)}")
    tables = {}
    for column, wanted in values.items():
        with wh.registered(_VALUES, pl.DataFrame({"value": wanted.drop_nulls().unique()})):
            counts = wh.frame(term_counts_sql(column))
        tables[column] = counts.select("value", (pl.col("count") / pl.col("total")).alias("tf"), "count")
    return tables


def latest_model(wh: Warehouse) -> tuple[str, str] | None:
    """The newest stored model as (parameters JSON, settings JSON)."""
    rows = wh.rows("SELECT parameters::VARCHAR, settings::VARCHAR FROM match_models ORDER BY model_id DESC LIMIT 1")
    return (rows[0][0], rows[0][1]) if rows else None


def save_model(wh: Warehouse, parameters: str, settings: str, pairs_used: int, prior: float) -> None:
    wh.execute(
        "INSERT INTO match_models SELECT coalesce(max(model_id), 0) + 1, now()::TIMESTAMP, ?, ?, ?::JSON, ?::JSON FROM match_models",
        [pairs_used, prior, parameters, settings],
    )


def stored_level_patterns(
    wh: Warehouse, comparisons: Sequence[str], answer_source: str, since: datetime | None = None,
) -> pl.DataFrame:
    """How many stored pairs (``pairs``) have each combination of levels (``level_<name>``, as
    text) and answer (``label``: must_link / cannot_link, null when none).

    A pair stored more than once counts once, with its newest row; only pairs stored after
    ``since`` count (when given). A pair's answer is its newest label, if a label of
    ``answer_source`` (a review) is among its labels. 1.86M pairs of a 1M-lead warehouse: 22k
    rows in 0.6 s.
    """
    levels = ", ".join(f"p.level_{name}::VARCHAR AS level_{name}" for name in comparisons)
    return wh.frame(
        f"""
        WITH latest AS (
            SELECT max(rowid) AS row_id FROM match_pairs WHERE $since IS NULL OR created_at > $since GROUP BY lead_id_l, lead_id_r
        ),
        answers AS (
            SELECT lead_id_l, lead_id_r, arg_max(label, (created_at, rowid)) AS label FROM match_labels
            GROUP BY lead_id_l, lead_id_r HAVING bool_or(source = $source)
        )
        SELECT {levels}, a.label::VARCHAR AS label, count(*) AS pairs
        FROM latest JOIN match_pairs p ON p.rowid = latest.row_id
        LEFT JOIN answers a ON a.lead_id_l = p.lead_id_l AND a.lead_id_r = p.lead_id_r
        GROUP BY ALL ORDER BY ALL
        """,
        {"since": since, "source": answer_source},
    )


def model_settings_history(wh: Warehouse) -> list[tuple[datetime, str]]:
    """(``fitted_at``, settings JSON) of every stored model, oldest first."""
    return [(at, settings) for at, settings in wh.rows("SELECT fitted_at, settings::VARCHAR FROM match_models ORDER BY model_id")]


def replace_all_keys(wh: Warehouse) -> None:
    """Forget every stored key (the blocking rules changed: keys are recomputed)."""
    wh.execute("DELETE FROM lead_blocking_keys")


def insert_keys(wh: Warehouse, keys: pl.DataFrame) -> None:
    with wh.registered(_FRAME, keys.select(KEY_COLUMNS)):
        wh.execute(f"INSERT INTO lead_blocking_keys (lead_id, rule, key, block) SELECT lead_id, rule, key, block FROM {_FRAME}")


def any_clustered(wh: Warehouse) -> bool:
    """Whether any lead has a cluster (a dedup run has clustered it)."""
    return bool(wh.scalar("SELECT EXISTS (SELECT 1 FROM leads WHERE cluster_id IS NOT NULL)"))


def stored_key_sample(wh: Warehouse, rows: int = 64) -> pl.DataFrame:
    """A few stored keys (``rule``, ``key``, ``block``); every stored key has a block id (migration 8)."""
    return wh.frame(f"SELECT rule, key, block FROM lead_blocking_keys LIMIT {int(rows)}")


def insert_pairs(wh: Warehouse, pairs: pl.DataFrame) -> None:
    """Append scored pairs (``PAIR_COLUMNS``; a missing comparison column is stored as NULL)."""
    frame = pairs.with_columns(
        [pl.lit(None, pl.String if c.startswith("level_") else pl.Float64).alias(c)
         for c in PAIR_COLUMNS if c not in pairs.columns]
    ).select(PAIR_COLUMNS)
    cols = ", ".join(PAIR_COLUMNS)
    with wh.registered(_FRAME, frame):
        wh.execute(f"INSERT INTO match_pairs ({cols}, created_at) SELECT {cols}, now()::TIMESTAMP FROM {_FRAME}")


def apply_clusters(wh: Warehouse, assignment: pl.DataFrame, merges: pl.DataFrame) -> None:
    """Write cluster ids: merged clusters take the survivor's id, then each assigned lead its own."""
    if merges.height:
        with wh.registered(_FRAME, merges.select(pl.col("old_cluster_id").cast(pl.Int64), pl.col("new_cluster_id").cast(pl.Int64))):
            wh.execute(
                f"UPDATE leads SET cluster_id = m.new_cluster_id, updated_at = now()::TIMESTAMP FROM {_FRAME} m "
                "WHERE leads.cluster_id = m.old_cluster_id"
            )
    assign_clusters(wh, assignment)


def assign_clusters(wh: Warehouse, assignment: pl.DataFrame) -> None:
    """Give each lead of ``assignment`` (``lead_id``, ``cluster_id``) its cluster id."""
    if assignment.is_empty():
        return
    with wh.registered(_FRAME, assignment.select(pl.col(s.LEAD_ID).cast(pl.Int64), pl.col(s.CLUSTER_ID).cast(pl.Int64))):
        wh.execute(
            f"UPDATE leads SET cluster_id = c.cluster_id, updated_at = now()::TIMESTAMP FROM {_FRAME} c "
            "WHERE leads.lead_id = c.lead_id AND leads.cluster_id IS DISTINCT FROM c.cluster_id"
        )


def insert_events(wh: Warehouse, events: pl.DataFrame) -> int:
    """Append cluster events, numbered after the last one."""
    if events.is_empty():
        return 0
    frame = events.select(
        "event", pl.col(s.CLUSTER_ID).cast(pl.Int64), pl.col("other_cluster_id").cast(pl.Int64),
        pl.col(s.LEAD_ID).cast(pl.Int64), pl.col("detail").cast(pl.String),
    ).with_row_index("n", offset=1)
    with wh.registered(_FRAME, frame):
        wh.execute(
            f"INSERT INTO cluster_events SELECT (SELECT coalesce(max(event_id), 0) FROM cluster_events) + n, event, "
            f"cluster_id, other_cluster_id, lead_id, detail, now()::TIMESTAMP FROM {_FRAME} ORDER BY n"
        )
    return frame.height


def maintenance_due(wh: Warehouse, task: str) -> str | None:
    """The reason a migration gave for ``task`` if the next dedup run still has to do it, else None."""
    if not wh.table_exists("maintenance_due"):
        return None
    return wh.scalar("SELECT reason FROM maintenance_due WHERE task = ?", [task])


def request_maintenance(wh: Warehouse, task: str, reason: str) -> None:
    """Ask the next dedup run to do ``task`` (kept as asked first if it is asked already)."""
    wh.execute("INSERT OR IGNORE INTO maintenance_due (task, reason) VALUES (?, ?)", [task, reason])


def maintenance_done(wh: Warehouse, task: str) -> None:
    wh.execute("DELETE FROM maintenance_due WHERE task = ?", [task])


def golden_rules_applied(wh: Warehouse) -> str | None:
    """The survivorship rules (JSON) the golden records were last built with; None when none is
    recorded (a new warehouse, or one built before version 12)."""
    if not wh.table_exists("golden_rules"):
        return None
    return wh.scalar("SELECT rules::VARCHAR FROM golden_rules ORDER BY rules_id DESC LIMIT 1")


def record_golden_rules(wh: Warehouse, rules: str, golden_records: int) -> None:
    """Record the survivorship rules every golden record is built with from now on, and how many
    records were rebuilt with them."""
    wh.execute(
        "INSERT INTO golden_rules SELECT coalesce(max(rules_id), 0) + 1, ?::JSON, now()::TIMESTAMP, ? FROM golden_rules",
        [rules, golden_records],
    )


def has_golden_records(wh: Warehouse) -> bool:
    return bool(wh.scalar("SELECT EXISTS (SELECT 1 FROM lead_golden)"))


def clustered_ids(wh: Warehouse) -> pl.Series:
    """Every cluster id in use."""
    return wh.frame("SELECT DISTINCT cluster_id FROM leads WHERE cluster_id IS NOT NULL ORDER BY 1")["cluster_id"]


def golden_cluster_ids(wh: Warehouse) -> pl.Series:
    """The cluster id of every stored golden record."""
    return wh.frame("SELECT cluster_id FROM lead_golden ORDER BY 1")["cluster_id"]


def cluster_leads_for_golden(wh: Warehouse, cluster_ids: pl.Series, columns: Sequence[str]) -> pl.DataFrame:
    """Every lead of the given clusters, with ``columns``."""
    cols = ", ".join(f"l.{c}" for c in columns)
    with wh.registered(_IDS, _ids_frame(cluster_ids)):
        return wh.frame(f"SELECT {cols} FROM leads l JOIN {_IDS} i ON l.cluster_id = i.id ORDER BY l.lead_id")


def replace_golden(wh: Warehouse, golden: pl.DataFrame, stale_cluster_ids: pl.Series) -> None:
    """Delete the golden records of ``stale_cluster_ids`` and insert ``golden``."""
    with wh.registered(_IDS, _ids_frame(stale_cluster_ids)):
        wh.execute(f"DELETE FROM lead_golden WHERE cluster_id IN (SELECT id FROM {_IDS})")
    if golden.is_empty():
        return
    cols = ", ".join(golden.columns)
    with wh.registered(_FRAME, golden):
        wh.execute(f"INSERT INTO lead_golden ({cols}, updated_at) SELECT {cols}, now()::TIMESTAMP FROM {_FRAME}")


def cluster_members(wh: Warehouse, lead_id: int) -> tuple[int | None, list[int]]:
    """The cluster of a lead and its members (ascending); (None, []) for an unknown lead."""
    row = wh.rows("SELECT cluster_id FROM leads WHERE lead_id = ?", [lead_id])
    if not row:
        return None, []
    cluster = row[0][0]
    if cluster is None:
        return None, [lead_id]
    members = [r[0] for r in wh.rows("SELECT lead_id FROM leads WHERE cluster_id = ? ORDER BY lead_id", [cluster])]
    return int(cluster), members


def insert_labels(wh: Warehouse, labels: pl.DataFrame) -> None:
    """Append labels (``lead_id_l`` < ``lead_id_r``, ``label``, ``source``, ``note``)."""
    with wh.registered(_FRAME, labels.select("lead_id_l", "lead_id_r", "label", "source", pl.col("note").cast(pl.String))):
        wh.execute(
            f"INSERT INTO match_labels SELECT lead_id_l, lead_id_r, label, source, note, now()::TIMESTAMP FROM {_FRAME}"
        )


def review_pairs(wh: Warehouse, fields: Sequence[str]) -> pl.DataFrame:
    """Pairs for a person to decide, nobody labelled yet (``_UNREVIEWED``): the probability, why
    the pair is there (``reason``), the evidence (each compared field's level and weight in bits,
    strongest for a match first) and both leads' fields side by side."""
    both = ", ".join(f"a.{f} AS {f}_l, b.{f} AS {f}_r" for f in fields)
    # each compared field's level and weight, from the strongest evidence for a match to the
    # strongest against: "last_name exact (+6.3), ..., first_name other_name (-2.7)"
    items = ", ".join(f"{{'w': p.weight_{c}, 'n': '{c}', 'l': p.level_{c}}}" for c in PAIR_COMPARISONS)
    evidence = (
        f"array_to_string(list_transform(list_reverse_sort(list_filter([{items}], lambda x: x.l <> 'missing')), "
        "lambda x: x.n || ' ' || x.l || ' (' || printf('%+.1f', x.w) || ')'), ', ')"
    )
    return wh.frame(
        f"""
        {_UNREVIEWED}
        SELECT p.lead_id_l, p.lead_id_r, round(p.match_probability, 4) AS match_probability, p.reason,
               {evidence} AS evidence, {both}
        FROM unreviewed p
        JOIN leads a ON a.lead_id = p.lead_id_l
        JOIN leads b ON b.lead_id = p.lead_id_r
        ORDER BY p.match_probability DESC, p.lead_id_l, p.lead_id_r
        """
    )


#: Why ``review_pairs`` exports a pair (its ``reason``).
UNCERTAIN = "uncertain"
#: An uncertain pair whose two leads other links put in one cluster: a "no" detaches the newer one.
UNCERTAIN_TOGETHER = "uncertain, in one cluster already"
KEPT_APART = "matched, but kept in another cluster"

#: The conditions ``_UNREVIEWED`` and ``kept_apart`` share, on a stored pair ``p``: a run decided a
#: match (model or rule), and nobody labelled the pair.
_LINKED = "p.decision IN ('match', 'must_link')"
_UNLABELLED = "NOT EXISTS (SELECT 1 FROM match_labels m WHERE m.lead_id_l = p.lead_id_l AND m.lead_id_r = p.lead_id_r)"

#: The pairs ``review_pairs`` exports (``unreviewed``): the newest row of each stored pair that
#: nobody labelled, where the model left it between the thresholds, or where a run decided a match
#: yet the two sit in different clusters (the chaining guard cut the link: only a person can tell
#: which side the lead belongs to).
_UNREVIEWED = f"""
    WITH latest AS (  -- the newest row of each pair, located by rowid: the window sorts three columns, not all
        SELECT rowid AS row_id FROM match_pairs
        {_NEWEST_PAIR_ROW}
    ),
    newest AS (SELECT p.* FROM latest JOIN match_pairs p ON p.rowid = latest.row_id),
    unreviewed AS (
        SELECT * FROM (
            SELECT p.*, CASE WHEN ca.cluster_id = cb.cluster_id THEN '{UNCERTAIN_TOGETHER}' ELSE '{UNCERTAIN}' END AS reason
            FROM newest p LEFT JOIN leads ca ON ca.lead_id = p.lead_id_l LEFT JOIN leads cb ON cb.lead_id = p.lead_id_r
            WHERE p.decision = 'review'
            UNION ALL
            SELECT p.*, '{KEPT_APART}' AS reason FROM newest p
            JOIN leads ca ON ca.lead_id = p.lead_id_l JOIN leads cb ON cb.lead_id = p.lead_id_r
            WHERE {_LINKED} AND ca.cluster_id <> cb.cluster_id
        ) p
        WHERE {_UNLABELLED}
    )
"""


def rule_links(wh: Warehouse, lead_ids: pl.Series) -> pl.DataFrame:
    """Pairs among the leads whose newest stored row a must-link or cannot-link rule decided
    (``lead_id_l``, ``lead_id_r``, ``label`` must_link / cannot_link, ``source`` the rule as
    ``rule:<name>``, ``note`` null): a review answer about other pairs respects them as it
    respects labels (a "yes" does not merge across a rule's cannot-link; a "no" takes the leads a
    rule's must-link ties to the detached lead with it)."""
    with wh.registered(_IDS, _ids_frame(lead_ids)):
        return wh.frame(
            f"""
            WITH mine AS (
                SELECT lead_id_l, lead_id_r, decision, decided_by FROM match_pairs
                WHERE lead_id_l IN (SELECT id FROM {_IDS}) AND lead_id_r IN (SELECT id FROM {_IDS})
                {_NEWEST_PAIR_ROW}
            )
            SELECT lead_id_l, lead_id_r, decision::VARCHAR AS label, decided_by AS source, NULL::VARCHAR AS note FROM mine
            WHERE decision IN ('must_link', 'cannot_link') AND decided_by LIKE 'rule:%' ORDER BY lead_id_l, lead_id_r
            """
        )


def kept_apart(wh: Warehouse, lead_id: int) -> pl.DataFrame:
    """The lead's stored pairs (each pair's newest row) that a run decided a match although the two
    are in different clusters and nobody labelled them (as ``review_pairs`` exports them): ``other``
    lead, its ``cluster_id``, ``match_probability``, ``decision``, ``decided_by``."""
    # the conditions of _UNREVIEWED's second part, for one lead: a filtered scan (20 ms at 1M
    # leads) instead of the whole export's query (250 ms)
    return wh.frame(
        f"""
        WITH mine AS (
            SELECT * FROM match_pairs WHERE $l IN (lead_id_l, lead_id_r)
            {_NEWEST_PAIR_ROW}
        )
        SELECT o.lead_id AS other, o.cluster_id, round(p.match_probability, 4) AS match_probability, p.decision::VARCHAR AS decision,
               p.decided_by
        FROM mine p JOIN leads o ON o.lead_id = CASE WHEN p.lead_id_l = $l THEN p.lead_id_r ELSE p.lead_id_l END
        JOIN leads me ON me.lead_id = $l
        WHERE {_LINKED} AND o.cluster_id <> me.cluster_id AND {_UNLABELLED}
        ORDER BY p.match_probability DESC, o.lead_id
        """,
        {"l": lead_id},
    )


def review_pair_count(wh: Warehouse) -> int:
    """How many pairs ``review_pairs`` would export."""
    return int(wh.scalar(f"{_UNREVIEWED} SELECT count(*) FROM unreviewed"))


def memberships(wh: Warehouse, lead_ids: Sequence[int]) -> pl.DataFrame:
    """``lead_id`` and ``cluster_id`` of the given leads (null: not clustered yet; an unknown id
    has no row) and of every other member of their clusters."""
    with wh.registered(_IDS, _ids_frame(list(lead_ids))):
        return wh.frame(
            f"SELECT lead_id, cluster_id FROM leads WHERE lead_id IN (SELECT id FROM {_IDS}) "
            f"OR cluster_id IN (SELECT w.cluster_id FROM leads w JOIN {_IDS} i ON w.lead_id = i.id) ORDER BY lead_id"
        )


def explain_pairs(wh: Warehouse, cluster_id: int) -> pl.DataFrame:
    """The latest scored pair of every two members of a cluster."""
    return wh.frame(
        f"""
        WITH members AS (SELECT lead_id FROM leads WHERE cluster_id = ?)
        SELECT * FROM (
            SELECT p.* FROM match_pairs p
            WHERE lead_id_l IN (SELECT lead_id FROM members) AND lead_id_r IN (SELECT lead_id FROM members)
            {_NEWEST_PAIR_ROW}
        ) ORDER BY match_probability DESC, lead_id_l, lead_id_r
        """,
        [cluster_id],
    )


def leads_by_id(wh: Warehouse, lead_ids: Sequence[int], columns: Sequence[str]) -> pl.DataFrame:
    """The given leads (an unknown id has no row) with ``columns``, by lead id."""
    cols = ", ".join(columns)
    with wh.registered(_IDS, _ids_frame(list(lead_ids))):
        return wh.frame(f"SELECT {cols} FROM leads WHERE lead_id IN (SELECT id FROM {_IDS}) ORDER BY lead_id")


def labels_between(wh: Warehouse, lead_id_l: int, lead_id_r: int | None = None) -> pl.DataFrame:
    """The must/cannot-link labels of two leads (``lead_id_l`` < ``lead_id_r``), or with None
    every label of the lead ``lead_id_l``, oldest first."""
    return wh.frame(
        "SELECT lead_id_l, lead_id_r, label, source, note, created_at FROM match_labels "
        "WHERE CASE WHEN $r IS NULL THEN $l IN (lead_id_l, lead_id_r) ELSE lead_id_l = $l AND lead_id_r = $r END "
        "ORDER BY created_at, rowid",
        {"l": lead_id_l, "r": lead_id_r},
    )


def stored_pair(wh: Warehouse, lead_id_l: int, lead_id_r: int) -> dict | None:
    """The newest ``match_pairs`` row of two leads (``lead_id_l`` < ``lead_id_r``), or None if no run scored them."""
    found = wh.frame(
        "SELECT * FROM match_pairs WHERE lead_id_l = ? AND lead_id_r = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
        [lead_id_l, lead_id_r],
    )
    return found.row(0, named=True) if found.height else None


#: The columns a person recognises a lead by (``lead_summaries``).
SUMMARY_COLUMNS = ("lead_id", "first_name", "last_name", "email", "phone", "company", "city", "source_file", "created_at")


def converted_leads(wh: Warehouse, lead_ids: Sequence[int]) -> pl.DataFrame:
    """``lead_id`` and ``converted_contact_id`` of the given leads that are converted (or linked to
    the contact of a converted duplicate), by lead id."""
    with wh.registered(_IDS, _ids_frame(list(lead_ids))):
        return wh.frame(
            f"SELECT lead_id, converted_contact_id FROM leads WHERE is_converted AND lead_id IN (SELECT id FROM {_IDS}) ORDER BY lead_id"
        )


def lead_summaries(wh: Warehouse, lead_ids: Sequence[int]) -> pl.DataFrame:
    return leads_by_id(wh, lead_ids, SUMMARY_COLUMNS)


#: The events of clusters and of the clusters they came from (``cluster_history``), for the ids of
#: ``_lp_ids``: ``history_of`` is the id asked for. A cluster's id is its smallest lead id, so its
#: earlier history can be filed under other ids: a cluster that absorbed another (``merge``:
#: ``cluster_id`` the survivor, ``other_cluster_id`` the absorbed) came from both, and the two parts
#: of an unmerge (``cluster_id`` the rest, ``other_cluster_id`` the detached part) came from the
#: cluster before it, whose id, the smaller of the two, one of them kept. Each earlier cluster's
#: events count up to the event that ended it there, and its own lineage is followed back the same
#: way (the event ids fall at each step, so the recursion ends). Equality joins only: an OR in a
#: join makes DuckDB loop over every pair of rows.
CLUSTER_LINEAGE_SQL = f"""
    WITH RECURSIVE parents AS MATERIALIZED (
        SELECT CASE WHEN event = 'merge' THEN cluster_id ELSE greatest(cluster_id, other_cluster_id) END AS child,
               CASE WHEN event = 'merge' THEN other_cluster_id ELSE least(cluster_id, other_cluster_id) END AS parent,
               event_id AS at
        FROM cluster_events WHERE event IN ('merge', 'unmerge')
    ),
    lineage (history_of, cluster_id, until) AS (
        SELECT id, id, NULL::BIGINT FROM {_IDS}
        UNION
        SELECT l.history_of, p.parent, p.at FROM lineage l JOIN parents p ON p.child = l.cluster_id
        WHERE l.until IS NULL OR p.at < l.until
    )
    SELECT l.history_of, e.event_id, e.event, e.cluster_id, e.other_cluster_id, e.lead_id, e.detail, e.created_at
    FROM lineage l JOIN cluster_events e ON e.cluster_id = l.cluster_id WHERE l.until IS NULL OR e.event_id <= l.until
    UNION
    SELECT l.history_of, e.event_id, e.event, e.cluster_id, e.other_cluster_id, e.lead_id, e.detail, e.created_at
    FROM lineage l JOIN cluster_events e ON e.other_cluster_id = l.cluster_id WHERE l.until IS NULL OR e.event_id <= l.until
    ORDER BY history_of, event_id
"""


def cluster_histories(wh: Warehouse, cluster_ids: Sequence[int]) -> pl.DataFrame:
    """The events of each cluster (``history_of``) and of the clusters it came from, oldest first
    (``CLUSTER_LINEAGE_SQL``); an event can be in several clusters' histories."""
    with wh.registered(_IDS, _ids_frame(list(cluster_ids))):
        return wh.frame(CLUSTER_LINEAGE_SQL)


def cluster_history(wh: Warehouse, cluster_ids: Sequence[int]) -> pl.DataFrame:
    """The events of the clusters and of the clusters they came from, oldest first, each once."""
    return cluster_histories(wh, cluster_ids).drop("history_of").unique("event_id").sort("event_id")
