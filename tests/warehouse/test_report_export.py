"""Report figures from the warehouse (empty, and with scored match pairs) and the Parquet export."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from transforms.report_html import render_report
from warehouse.connection import Warehouse
from warehouse.export import export_parquet
from warehouse.migrations import migrate
from warehouse.report import collect_report

NOW = datetime(2026, 11, 23, 10, 0, 0)


def add_lead(wh: Warehouse, lead_id: int, cluster_id: int, email: str, *, source: str = "Web", status: str = "Open - Not Contacted",
             score: int = 10, grade: str = "B", owner: str = "rep_alice", converted: bool = False, last: str = "Lee") -> None:
    wh.execute(
        "INSERT INTO leads (lead_id, batch_id, source_file, source_kind, source_row, lead_source, first_name, last_name, company, "
        "email, status, score, grade, owner_id, cluster_id, is_converted, submitted_at, created_at, updated_at) "
        "VALUES (?, 1, '/in/web_form.csv', 'form', ?, ?, 'Ann', ?, 'Acme', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [lead_id, lead_id, source, last, email, status, score, grade, owner, cluster_id, converted, NOW, NOW, NOW],
    )


def test_empty_warehouse_reports_no_duplicates_yet(wh: Warehouse) -> None:
    data = collect_report(wh, source="test")
    assert data.kpis["leads"] == 0 and data.cluster_members.height == 0
    html = render_report(data)
    assert "No duplicates yet" in html and "No leads yet" in html and "No rejected rows" in html


def test_largest_clusters_show_why_they_matched(wh: Warehouse) -> None:
    add_lead(wh, 1, 1, "ann@acme.com", status="MQL", score=60, grade="A")
    add_lead(wh, 2, 1, "ann@acme.com", source="Trade Show", status="Closed - Converted", converted=True, owner="rep_bruno")
    add_lead(wh, 3, 1, "ann.lee@acme.com")
    add_lead(wh, 4, 4, "bo@initech.com", last="Kim", score=5, grade="D")
    wh.execute(
        "INSERT INTO match_pairs (lead_id_l, lead_id_r, blocking_rules, level_email, weight_email, level_last_name, weight_last_name, "
        "level_phone, weight_phone, level_title, weight_title, prior_weight, match_weight, match_probability, decision, decided_by, "
        "created_at) VALUES "
        "(1, 2, ['email'], 'exact', 9.5, 'exact', 3.2, 'different', -2.1, 'exact', 1.7, -8, 12.6, 0.9998, 'match', 'model', ?), "
        "(1, 3, ['name'], 'same_local', 4.1, 'exact', 3.2, NULL, NULL, NULL, NULL, -8, 2.3, 0.83, 'match', 'model', ?)",
        [NOW, NOW],
    )
    wh.execute("INSERT INTO cluster_events (event_id, event, cluster_id, other_cluster_id, lead_id, detail, created_at) "
               "VALUES (1, 'create', 1, NULL, 2, 'email exact, last name exact', ?), (2, 'create', 3, NULL, 3, 'lead 3 on its own', ?), "
               "(3, 'merge', 1, 3, NULL, 'review: lead 1 is lead 3', ?)", [NOW, NOW, NOW])
    wh.execute("INSERT INTO lead_rejects (batch_id, source_file, source_row, reasons, raw_record, raw_line, created_at) "
               "VALUES (1, 'x.csv', 3, ['invalid_email', 'missing_company'], '{}', NULL, ?)", [NOW])
    wh.execute("INSERT INTO reps (rep_id, name, active, updated_at) VALUES ('rep_alice', 'Alice Martin', true, ?)", [NOW])

    data = collect_report(wh, source="test")
    assert data.kpis["duplicate_clusters"] == 1 and data.kpis["duplicate_leads"] == 2
    assert data.cluster_sizes.rows() == [(3, 1)]
    assert data.cluster_pairs.height == 2 and data.cluster_pairs["match_probability"].to_list() == [0.9998, 0.83]
    assert dict(data.rejects_by_reason.rows()) == {"invalid_email": 1, "missing_company": 1}
    by_source = {r["lead_source"]: r for r in data.funnel_by_source.iter_rows(named=True)}
    assert (by_source["Web"]["leads"], by_source["Web"]["mqls"]) == (3, 1)
    assert (by_source["Trade Show"]["mqls"], by_source["Trade Show"]["converted"]) == (1, 1)
    reps = {r["owner_id"]: r for r in data.per_rep.iter_rows(named=True)}
    assert reps["rep_alice"]["rep"] == "Alice Martin" and reps["rep_bruno"]["rep"] == "rep_bruno"
    assert data.funnel_by_week["week"].to_list() == [datetime(2026, 11, 23).date()]

    html = render_report(data)
    assert "Cluster 1: 3 leads" in html and "No duplicates yet" not in html
    assert "email: exact +9.5" in html and "phone: different -2.1" in html and "0.830" in html
    assert "title: exact +1.7" in html  # every comparison match_pairs stores is shown
    # the cluster's history, with that of the cluster it absorbed, as `leadpipe explain` tells it
    history = html[html.index("Cluster 1: 3 leads"):]
    assert history.index("email exact, last name exact") < history.index("lead 3 on its own") < history.index("review: lead 1 is lead 3")


def test_clusters_without_pair_scores_say_what_they_share(wh: Warehouse) -> None:
    add_lead(wh, 1, 1, "ann@acme.com")
    add_lead(wh, 2, 1, "ann@acme.com")
    html = render_report(collect_report(wh))
    assert "No pair scores recorded" in html and "email “ann@acme.com” (2 of 2 leads)" in html


def test_export_writes_every_table_as_parquet(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    with Warehouse.open(db) as wh:
        migrate(wh)
        add_lead(wh, 1, 1, "ann@acme.com")
        tables = {t for (t,) in wh.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")}
    with Warehouse.open(db, read_only=True) as wh:
        written = export_parquet(wh, tmp_path / "out dir")
    assert {t for t, _, _ in written} == tables and "pipeline_runs" in tables
    rows = {t: n for t, n, _ in written}
    assert rows["leads"] == 1 and rows["pipeline_runs"] == 0
    leads = pl.read_parquet(tmp_path / "out dir" / "leads.parquet")
    assert leads["email"].to_list() == ["ann@acme.com"] and "cluster_id" in leads.columns
    assert not list((tmp_path / "out dir").glob(".*")), "no temporary file left"
