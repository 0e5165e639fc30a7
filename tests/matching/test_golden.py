"""Golden records: survivorship rules, grouped fields, provenance."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl

from matching.configuration import Survivorship
from matching.golden import GOLDEN_INPUT, golden_records


def leads() -> pl.DataFrame:
    rows = [
        {"cluster_id": 1, "lead_id": 1, "source_kind": "bulk", "submitted_at": None, "created_at": datetime(2026, 1, 1),
         "first_name": "Bob", "last_name": "Smith", "email": "bob@acme.com", "email_domain": "acme.com",
         "company": "Acme", "company_key": "acme", "street": "1 Main St", "city": "Springfield", "title": None},
        {"cluster_id": 1, "lead_id": 2, "source_kind": "form", "submitted_at": datetime(2026, 3, 1), "created_at": datetime(2026, 3, 2),
         "first_name": "Robert", "last_name": "Smith", "email": None, "email_domain": None,
         "company": "Acme Corporation", "company_key": "acme", "street": None, "city": "Shelbyville", "title": "CTO"},
        {"cluster_id": 3, "lead_id": 3, "source_kind": "trade_show", "submitted_at": None, "created_at": datetime(2026, 2, 1),
         "first_name": "Ann", "last_name": "Lee", "email": "ann@x.com", "email_domain": "x.com",
         "company": "X", "company_key": "x", "street": None, "city": None, "title": None},
    ]
    frame = pl.DataFrame(rows)
    return frame.with_columns([pl.lit(None, pl.String).alias(c) for c in GOLDEN_INPUT if c not in frame.columns]).select(GOLDEN_INPUT)


def test_default_rules_and_provenance() -> None:
    golden = golden_records(leads(), Survivorship())
    first = golden.row(0, named=True)
    assert first["lead_count"] == 2 and first["lead_ids"] == [1, 2]
    assert first["first_name"] == "Robert"  # most recent
    assert first["email"] == "bob@acme.com" and first["email_domain"] == "acme.com"  # the only lead with one
    assert first["company"] == "Acme Corporation"  # most complete
    # the address group comes from one lead: lead 1 has street and city, lead 2 only a city
    assert (first["street"], first["city"]) == ("1 Main St", "Springfield")
    provenance = json.loads(first["provenance"])
    assert provenance["first_name"] == 2 and provenance["email"] == 1 and provenance["city"] == 1
    assert first["source_kinds"] == ["bulk", "form"]
    assert golden.height == 2


def test_source_priority_and_oldest() -> None:
    rules = Survivorship(default="oldest", fields={"first_name": "source_priority"}, source_priority=["bulk", "form"])
    first = golden_records(leads(), rules).row(0, named=True)
    assert first["first_name"] == "Bob"  # bulk ranks first
    assert first["title"] == "CTO"  # oldest with a value
