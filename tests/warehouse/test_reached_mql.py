"""One "reached MQL": the report, the run summary and the v_funnel view count the same leads."""

from __future__ import annotations

from datetime import datetime

from warehouse.connection import Warehouse
from warehouse.lifecycle import CLUSTER_KEY_SQL, REACHED_MQL_SQL
from warehouse.report import collect_report
from warehouse.runs import finish_run, start_run

NOW = datetime(2026, 11, 23, 10, 0, 0)
EARLIER = datetime(2026, 11, 20, 9, 0, 0)


def add_lead(wh: Warehouse, lead_id: int, cluster_id: int, status: str, *, mql_at: datetime | None = None,
             converted: bool = False, source: str = "Web") -> None:
    wh.execute(
        "INSERT INTO leads (lead_id, batch_id, source_file, source_kind, source_row, lead_source, last_name, company, status, "
        "mql_at, owner_id, cluster_id, is_converted, submitted_at, created_at, updated_at) "
        "VALUES (?, 1, 'f.csv', 'form', ?, ?, 'Lee', 'Acme', ?, ?, 'rep_alice', ?, ?, ?, ?, ?)",
        [lead_id, lead_id, source, status, mql_at, cluster_id, converted, NOW, NOW, NOW],
    )


def add_funnel_leads(wh: Warehouse) -> None:
    """One person per lead: open, MQL now, MQL then worked, MQL then closed, converted, never MQL."""
    add_lead(wh, 1, 1, "Open - Not Contacted")
    add_lead(wh, 2, 2, "MQL", mql_at=EARLIER)
    add_lead(wh, 3, 3, "Working - Contacted", mql_at=EARLIER, source="Trade Show")  # reached MQL, moved on
    add_lead(wh, 4, 4, "Closed - Not Converted", mql_at=EARLIER)  # reached MQL, lost
    add_lead(wh, 5, 5, "Closed - Converted", mql_at=EARLIER, converted=True, source="Trade Show")
    add_lead(wh, 6, 6, "Working - Contacted")  # worked without ever being MQL


def test_report_run_summary_and_view_count_the_same_mqls(wh: Warehouse) -> None:
    baseline = start_run(wh, trigger="test", files=0)
    add_funnel_leads(wh)
    summary = finish_run(wh, baseline)

    view = wh.scalar("SELECT sum(mqls) FROM v_funnel")
    data = collect_report(wh, source="test")
    assert view == 4
    assert data.kpis["mqls"] == view
    assert summary.mqls == view
    assert data.funnel_by_source["mqls"].sum() == view
    assert data.funnel_by_week["mqls"].sum() == view
    assert data.per_rep["mqls"].sum() == view


def test_a_run_that_works_an_mql_does_not_count_negative_mqls(wh: Warehouse) -> None:
    add_funnel_leads(wh)
    baseline = start_run(wh, trigger="test", files=0)
    wh.execute("UPDATE leads SET status = 'Working - Contacted' WHERE lead_id = 2")  # a rep picks up the MQL
    assert finish_run(wh, baseline).mqls == 0


def test_the_view_counts_people_with_the_same_predicate(wh: Warehouse) -> None:
    # A second lead of the MQL person: the report counts leads (5), the view people (4).
    add_funnel_leads(wh)
    add_lead(wh, 7, 2, "MQL", mql_at=EARLIER)
    people = wh.scalar(f"SELECT count(DISTINCT {CLUSTER_KEY_SQL}) FILTER (WHERE {REACHED_MQL_SQL}) FROM leads")
    assert wh.scalar("SELECT sum(mqls) FROM v_funnel") == people == 4
    assert collect_report(wh, source="test").kpis["mqls"] == 5
