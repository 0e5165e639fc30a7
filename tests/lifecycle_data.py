"""Test helpers for the lifecycle: insert leads and golden records into a warehouse by hand.

The golden-record builder belongs to the matching engine; lifecycle tests write the
``lead_golden`` rows they need themselves, so they do not depend on it.
"""

from __future__ import annotations

from typing import Any

from warehouse.connection import Warehouse

LEAD_DEFAULTS: dict[str, Any] = {
    "batch_id": 1, "source_file": "f.csv", "source_kind": "form", "last_name": "Doe", "company": "Acme Inc.",
    "company_key": "acme", "status": "Open - Not Contacted", "lead_source": "Web",
    "created_at": "2026-11-01", "updated_at": "2026-11-01",
}
GOLDEN_COPY = (
    "salutation", "first_name", "last_name", "title", "company", "company_key", "email", "email_domain", "is_freemail",
    "phone", "mobile_phone", "website", "website_domain", "company_domain", "street", "city", "state", "postal_code",
    "country", "industry", "annual_revenue", "number_of_employees", "lead_source",
)


def add_lead(wh: Warehouse, lead_id: int, **values: Any) -> None:
    """Insert one lead; ``cluster_id`` defaults to the lead's own id."""
    row = {"lead_id": lead_id, "source_row": lead_id, "cluster_id": lead_id, **LEAD_DEFAULTS}
    row.update(values)
    cols = ", ".join(row)
    wh.execute(f"INSERT INTO leads ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


def build_golden(wh: Warehouse, **overrides: dict[str, Any]) -> None:
    """(Re)build lead_golden: one row per cluster from its oldest lead, with per-cluster overrides.

    Args:
        overrides: ``c<cluster_id>={field: value}`` to set golden values that differ from the
            oldest lead's (as survivorship would).
    """
    wh.execute("DELETE FROM lead_golden")
    cols = ", ".join(GOLDEN_COPY)
    picked = ", ".join(f"arg_min({c}, lead_id) AS {c}" for c in GOLDEN_COPY)
    wh.execute(
        f"INSERT INTO lead_golden (cluster_id, lead_count, lead_ids, source_kinds, first_seen_at, last_seen_at, {cols}, updated_at) "
        f"SELECT coalesce(cluster_id, lead_id), count(*), list(lead_id ORDER BY lead_id), list(DISTINCT source_kind), "
        f"min(coalesce(submitted_at, created_at)), max(coalesce(submitted_at, created_at)), {picked}, now()::TIMESTAMP "
        f"FROM leads GROUP BY 1"
    )
    for key, values in overrides.items():
        cluster = int(key.lstrip("c"))
        for col, value in values.items():
            assert col in GOLDEN_COPY
            wh.execute(f"UPDATE lead_golden SET {col} = ? WHERE cluster_id = ?", [value, cluster])
