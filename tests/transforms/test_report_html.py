"""The HTML report renderer and its SVG charts: escaping, self-containment, charts."""

from __future__ import annotations

import re
from datetime import date, datetime

import polars as pl

from transforms.report_html import ReportData, render_report
from transforms.svg_charts import Series, column_chart, hbar_chart, nice_max

EVIL = '<script>alert("x")</script>'


def data(**overrides: object) -> ReportData:
    kpis = {k: 0 for k in ("leads", "mqls", "converted", "rejects", "files_loaded", "files_failed", "duplicate_clusters",
                           "duplicate_leads", "accounts", "opportunities")}
    base = dict(
        kpis={**kpis, "leads": 3, "mqls": 1, "converted": 1},
        funnel_by_source=pl.DataFrame({"lead_source": [EVIL, "Web"], "leads": [2, 1], "mqls": [1, 0], "converted": [1, 0]}),
        funnel_by_week=pl.DataFrame({"week": [date(2026, 11, 16), date(2026, 11, 23)], "leads": [1, 2], "mqls": [0, 1], "converted": [0, 1]}),
        rejects_by_reason=pl.DataFrame({"reason": ["invalid_email"], "rows": [4]}),
        cluster_sizes=pl.DataFrame(), cluster_members=pl.DataFrame(), cluster_pairs=pl.DataFrame(), cluster_events=pl.DataFrame(),
        score_buckets=pl.DataFrame({"bucket": [0, 10], "leads": [2, 1]}),
        grades=pl.DataFrame({"grade": ["B", "A+"], "leads": [2, 1]}),
        per_rep=pl.DataFrame({"owner_id": ["rep_a"], "rep": [EVIL], "leads": [3], "mqls": [1], "converted": [1]}),
        source="wh.duckdb",
    )
    base.update(overrides)
    return ReportData(**base)  # type: ignore[arg-type]


def test_everything_user_supplied_is_escaped() -> None:
    html = render_report(data(), generated_at=datetime(2026, 11, 23, 9, 30))
    assert EVIL not in html and "&lt;script&gt;" in html
    assert "<script" not in html.lower(), "the page runs no script at all"


def test_page_is_self_contained() -> None:
    html = render_report(data())
    assert not re.search(r"(src|href)\s*=\s*\"(https?:)?//", html), "nothing is loaded from the network"
    assert "http://" not in html and "https://" not in html
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 4


def test_empty_sections_say_so() -> None:
    html = render_report(data(cluster_sizes=pl.DataFrame(), rejects_by_reason=pl.DataFrame({"reason": [], "rows": []})))
    assert "No duplicates yet" in html and "No rejected rows" in html


def test_grades_best_first_and_charts_scale() -> None:
    html = render_report(data())
    assert html.index(">A+<") < html.index(">B<")
    chart = hbar_chart(["a", "b"], [Series("n", [10, 5], "#000")], title="t")
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="#000"', chart)]
    assert widths[0] == 2 * widths[1] > 0
    cols = column_chart(["w1", "w2"], [Series("n", [0, 3], "#111")], title="c")
    assert cols.count('fill="#111"') == 2 and "<title>c</title>" in cols
    assert [nice_max(v) for v in (0, 7, 10, 11, 240, 1119)] == [1, 10, 10, 20, 250, 2000]


def test_runs_table_shows_the_pairs_each_run_left_for_review() -> None:
    runs = pl.DataFrame({
        "run_id": [3, 2, 1], "trigger": ["cli", "cli", "demo"], "status": ["completed"] * 3,
        "started_at": [datetime(2026, 12, 7, 6, 0), datetime(2026, 12, 6, 22, 0), datetime(2026, 12, 5, 9, 0)],
        "duration_seconds": [1.0, 1.5, 2.0], "files": [1, 1, 5], "rows_read": [3, 10, 1226], "rows_loaded": [3, 9, 1189],
        "rows_rejected": [0, 1, 34], "duplicate_leads": [0, 2, 116],
        "review_pairs": [1, 7, None], "review_queue": [12, None, None], "mqls": [0, 0, 31], "assignments": [3, 9, 1189],
        "conversions": [0, 0, 31], "error": [None, "qualify stage failed: <boom>", None],
    })
    html = render_report(data(runs=runs))
    section = html[html.index('id="runs"'):]
    assert "<th class=\"n\">Uncertain pairs</th><th class=\"n\">Awaiting review</th>" in section
    rows = [re.findall(r'<td class="n">([^<]*)</td>', row) for row in re.findall(r"<tr(?: class=\"has-error\")?><td class=\"n\">\d+</td>.*?</tr>", section)[:3]]
    # run, files, read, loaded, rejected, duplicates, uncertain pairs, awaiting review
    assert [row[6:8] for row in rows] == [["1", "12"], ["7", ""], ["", ""]]  # runs recorded before a figure existed: blank
    # a failed run's error on a row of its own below it, as wide as the table, escaped
    assert '<td colspan="14" class="error">qualify stage failed: &lt;boom&gt;</td>' in section
    assert section.index("qualify stage failed") > section.index("2026-12-06 22:00") > section.index("2026-12-07 06:00")
    assert section.count('class="error"') == 1 and section.count('<tr class="has-error"><td class="n">2</td>') == 1
