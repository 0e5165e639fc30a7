"""`leadpipe report`: one self-contained HTML page from the warehouse's figures.

Pure Python: the figures arrive as small polars frames (:class:`ReportData`, filled by
``warehouse.report``), every text goes through :func:`html.escape`, the charts are inline SVG
(:mod:`transforms.svg_charts`), the style is inline CSS. The page loads nothing, runs no script
and opens offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

import polars as pl

from transforms.clock import utc_now
from transforms.configuration import GRADES
from transforms.svg_charts import Series, column_chart, fmt, hbar_chart, legend

LEADS_COLOR, MQL_COLOR, CONVERTED_COLOR = "#b9d3ee", "#4a86c8", "#1d3f72"
REJECT_COLOR, CLUSTER_COLOR, SCORE_COLOR = "#d9733f", "#8a63b8", "#3c9a8f"
#: Scored pairs shown per cluster, strongest first.
MAX_PAIRS = 6

REASONS = {
    "malformed_row": "the row could not be parsed (wrong number of fields, broken quotes)",
    "missing_last_name": "no last name",
    "missing_company": "no company (set [ingest] missing_company = \"not_provided\" to accept)",
    "no_contact_channel": "neither a valid email nor a valid phone",
    "invalid_email": "the email is not a valid address",
    "invalid_phone": "the phone is not a valid number",
    "field_too_long": "a value is longer than the warehouse accepts",
}


@dataclass
class ReportData:
    """Every figure of the report (see ``warehouse.report.collect_report``)."""

    kpis: dict[str, Any]
    funnel_by_source: pl.DataFrame
    funnel_by_week: pl.DataFrame
    rejects_by_reason: pl.DataFrame
    cluster_sizes: pl.DataFrame
    cluster_members: pl.DataFrame
    cluster_pairs: pl.DataFrame
    cluster_events: pl.DataFrame
    score_buckets: pl.DataFrame
    grades: pl.DataFrame
    per_rep: pl.DataFrame
    runs: pl.DataFrame = field(default_factory=pl.DataFrame)
    match_fields: Sequence[str] = ()
    source: str = ""


CSS = """
*{box-sizing:border-box}body{margin:0;background:#f4f6f9;color:#1f2933;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}
header{background:#1d3f72;color:#fff;padding:22px 32px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
main{max-width:1120px;margin:0 auto;padding:20px 24px 40px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:18px 22px;margin:18px 0}
h2{font-size:17px;margin:0 0 4px}h3{font-size:14px;margin:14px 0 6px}.note{color:#5f6b7a;margin:0 0 12px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-top:18px}
.kpi{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:12px 16px}
.kpi b{display:block;font-size:24px;color:#1d3f72}.kpi span{color:#5f6b7a;font-size:12px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:18px}@media(max-width:900px){.grid2{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13px}th,td{padding:5px 8px;border-bottom:1px solid #e6e9ee;text-align:left;vertical-align:top}
th{background:#f7f8fa;font-weight:600;color:#3e4c59}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.legend{display:flex;gap:16px;margin:4px 0 8px;font-size:12px;color:#3e4c59}.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.wide{overflow-x:auto}td.error{color:#b42318}tr.has-error td{border-bottom:none}.compact{font-size:12px}.compact th,.compact td{padding:4px 5px}.nowrap{white-space:nowrap}
.empty{color:#5f6b7a;font-style:italic;padding:10px 0}.chip{display:inline-block;padding:1px 6px;border-radius:9px;font-size:12px;margin:1px 2px;background:#eef1f5}
.chip.pos{background:#dcefe0;color:#1e5b2c}.chip.neg{background:#f8e0de;color:#8a2a20}.status-failed,.status-abandoned{color:#b3261e;font-weight:600}.status-completed{color:#1e6b35}
.cluster{border-top:1px solid #e6e9ee;padding-top:6px}td.pair{white-space:nowrap}footer{color:#7b8794;font-size:12px;text-align:center;padding:10px}
"""


def _e(value: Any) -> str:
    return "" if value is None else escape(str(value))


def _num(value: Any) -> str:
    return "" if value is None else fmt(float(value))


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def _table(frame: pl.DataFrame, columns: Sequence[tuple[str, str]], numeric: Sequence[str] = ()) -> str:
    """An HTML table of the given (column, heading) pairs."""
    head = "".join(f'<th class="{"n" if c in numeric else ""}">{escape(h)}</th>' for c, h in columns)
    body = []
    for row in frame.iter_rows(named=True):
        cells = "".join(
            f'<td class="n">{_num(row[c])}</td>' if c in numeric else f"<td>{_e(row[c])}</td>" for c, _ in columns
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section(title: str, note: str, body: str, anchor: str) -> str:
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2><p class="note">{escape(note)}</p>{body}</section>'


def _empty(text: str) -> str:
    return f'<p class="empty">{escape(text)}</p>'


def _funnel_series(frame: pl.DataFrame) -> list[Series]:
    return [
        Series("Leads", frame["leads"].to_list(), LEADS_COLOR),
        Series("Reached MQL", frame["mqls"].to_list(), MQL_COLOR),
        Series("Converted", frame["converted"].to_list(), CONVERTED_COLOR),
    ]


def _kpis(k: dict[str, Any]) -> str:
    cards = [
        (fmt(k["leads"]), "leads in the warehouse"),
        (fmt(k["mqls"]), f"reached MQL ({_pct(k['mqls'], k['leads'])} of leads)"),
        (fmt(k["converted"]), f"converted ({_pct(k['converted'], k['mqls'])} of MQLs)"),
        (fmt(k["rejects"]), "rejected rows"),
        (fmt(k["duplicate_leads"]), f"duplicate leads in {fmt(k['duplicate_clusters'])} clusters"),
        (f"{fmt(k['files_loaded'])} / {fmt(k['files_failed'])}", "files loaded / failed"),
    ]
    return '<div class="kpis">' + "".join(f'<div class="kpi"><b>{escape(v)}</b><span>{escape(t)}</span></div>' for v, t in cards) + "</div>"


def _funnel(data: ReportData) -> str:
    by_source = data.funnel_by_source
    if by_source.height == 0:
        return _section("Funnel", "", _empty("No leads yet: run `leadpipe run FILES` or drop files into the inbox."), "funnel")
    series = _funnel_series(by_source)
    chart = legend(series) + hbar_chart(by_source["lead_source"].to_list(), series, title="Funnel by lead source", overlay=True)
    table = _table(
        by_source.with_columns(
            (pl.col("mqls") * 100 / pl.col("leads")).round(0).alias("mql_rate"),
            pl.when(pl.col("mqls") > 0).then((pl.col("converted") * 100 / pl.col("mqls")).round(0)).alias("conv_rate"),
        ),
        [("lead_source", "Lead source"), ("leads", "Leads"), ("mqls", "Reached MQL"), ("mql_rate", "MQL %"),
         ("converted", "Converted"), ("conv_rate", "Converted % of MQL")],
        numeric=("leads", "mqls", "mql_rate", "converted", "conv_rate"),
    )
    weeks = data.funnel_by_week
    week_html = _empty("No dated leads.")
    if weeks.height:
        labels = [w.strftime("%d %b %y") if hasattr(w, "strftime") else str(w) for w in weeks["week"].to_list()]
        week_series = _funnel_series(weeks)
        week_html = legend(week_series) + column_chart(labels, week_series, title="Funnel by week")
    body = (f"{chart}{table}<h3>By week (week of form submission, else of loading)</h3>{week_html}")
    return _section("Funnel: leads, MQLs, conversions", "Every lead, the leads that reached MQL (scored MQL at some point: "
                    "MQL now, worked or closed since, or converted), and the converted ones, by lead source and by week.", body, "funnel")


def _rejects(data: ReportData) -> str:
    frame = data.rejects_by_reason
    if frame.height == 0:
        return _section("Rejected rows", "", _empty("No rejected rows."), "rejects")
    chart = hbar_chart(frame["reason"].to_list(), [Series("rows", frame["rows"].to_list(), REJECT_COLOR)], title="Rejected rows by reason")
    table = _table(frame.with_columns(pl.col("reason").replace_strict(REASONS, default="").alias("meaning")),
                   [("reason", "Reason"), ("meaning", "Meaning"), ("rows", "Rows")], numeric=("rows",))
    return _section("Rejected rows by reason", "A row can have several reasons. `leadpipe rejects export` writes them "
                    "to CSV with the original record.", chart + table, "rejects")


def _why_matched(cluster: pl.DataFrame, pairs: pl.DataFrame, events: pl.DataFrame, fields: Sequence[str]) -> str:
    if pairs.height:
        rows = []
        for p in pairs.head(MAX_PAIRS).iter_rows(named=True):
            chips = []
            for f in fields:
                level, weight = p.get(f"level_{f}"), p.get(f"weight_{f}")
                if level is None or (weight is not None and abs(weight) < 0.05):
                    continue  # no evidence either way (e.g. missing on one side): leave it out
                kind = "pos" if (weight or 0) > 0 else "neg" if (weight or 0) < 0 else ""
                w = f" {weight:+.1f}" if weight is not None else ""
                chips.append(f'<span class="chip {kind}">{escape(f)}: {escape(str(level))}{escape(w)}</span>')
            prob = p.get("match_probability")
            rows.append(f"<tr><td class=\"pair\">{_e(p['lead_id_l'])} – {_e(p['lead_id_r'])}</td><td>{''.join(chips)}</td>"
                        f'<td class="n">{_e(f"{prob:.3f}" if prob is not None else "")}</td><td>{_e(p.get("decision"))} '
                        f"({_e(p.get('decided_by'))})</td></tr>")
        more = pairs.height - MAX_PAIRS
        html = ("<table><thead><tr><th>Pair</th><th>Field comparisons (level, match weight; fields without evidence left out)</th>"
                f"<th class=\"n\">Probability</th><th>Decision</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
                + (f'<p class="note">and {more} more pairs (match_pairs).</p>' if more > 0 else ""))
    else:
        shared = []
        for col, label in (("email", "email"), ("phone", "phone"), ("company_key", "company"), ("last_name", "last name")):
            counts = cluster.filter(pl.col(col).is_not_null()).group_by(col).len().filter(pl.col("len") > 1)
            for value, n in counts.iter_rows():
                shared.append(f"{label} “{value}” ({n} of {cluster.height} leads)")
        text = "; ".join(shared) if shared else "no identical values"
        html = f'<p class="note">No pair scores recorded for this cluster. Shared values: {escape(text)}.</p>'
    if events.height:
        details = "; ".join(f"{e['event']}: {e['detail']}" for e in events.iter_rows(named=True) if e.get("detail"))
        if details:
            html += f'<p class="note">History: {escape(details)}</p>'
    return html


def _duplicates(data: ReportData) -> str:
    sizes = data.cluster_sizes
    if sizes.height == 0:
        return _section("Duplicates", "", _empty("No duplicates yet: every lead is a cluster of its own."), "duplicates")
    chart = hbar_chart([f"{s} leads" for s in sizes["size"].to_list()],
                       [Series("clusters", sizes["clusters"].to_list(), CLUSTER_COLOR)], title="Duplicate clusters by size")
    parts = [chart, "<h3>Largest clusters and why they matched</h3>"]
    members = data.cluster_members
    for cluster_id in members["cluster_id"].unique(maintain_order=True).to_list():
        cluster = members.filter(pl.col("cluster_id") == cluster_id)
        pairs = data.cluster_pairs.filter(pl.col("cluster_id") == cluster_id) if data.cluster_pairs.height else pl.DataFrame()
        events = data.cluster_events.filter(pl.col("cluster_id") == cluster_id) if data.cluster_events.height else pl.DataFrame()
        kinds = ", ".join(sorted({str(k) for k in cluster["source_kind"].to_list()}))
        parts.append(f'<div class="cluster"><h3>Cluster {_e(cluster_id)}: {cluster.height} leads ({escape(kinds)})</h3>')
        parts.append(_table(cluster, [("lead_id", "Lead"), ("first_name", "First"), ("last_name", "Last"), ("email", "Email"),
                                      ("phone", "Phone"), ("company", "Company"), ("lead_source", "Source"), ("file", "File"),
                                      ("source_row", "Row")], numeric=("lead_id", "source_row")))
        parts.append(_why_matched(cluster, pairs, events, data.match_fields) + "</div>")
    return _section("Duplicates", "Leads of the same person, found within a file and across files. A cluster's id is "
                    "its oldest lead. Match weights are in bits; an exact agreement can weigh little or even count against "
                    "a match when the kind of different people a pair most resembles share that field too (colleagues a "
                    "company, namesakes a name), or when the value is common.", "".join(parts), "duplicates")


def _scores(data: ReportData) -> str:
    buckets, grades = data.score_buckets, data.grades
    if buckets.height == 0 and grades.height == 0:
        return _section("Scores and grades", "", _empty("No lead is scored yet."), "scores")
    score_html = column_chart([f"{b}–{b + 9}" for b in buckets["bucket"].to_list()],
                              [Series("leads", buckets["leads"].to_list(), SCORE_COLOR)], title="Leads by score") if buckets.height else _empty("No scores.")
    counts = dict(grades.iter_rows()) if grades.height else {}
    order = [g for g in reversed(GRADES) if g in counts] + sorted(set(counts) - set(GRADES))
    grade_html = hbar_chart(order, [Series("leads", [counts[g] for g in order], SCORE_COLOR)], title="Leads by grade",
                            width=460, label_width=60) if order else _empty("No grades.")
    body = f'<div class="grid2"><div><h3>Score (engagement)</h3>{score_html}</div><div><h3>Grade (fit)</h3>{grade_html}</div></div>'
    return _section("Scores and grades", "Score: points for engagement signals. Grade: fit, A+ best. Together they make "
                    "a lead an MQL.", body, "scores")


def _reps(data: ReportData) -> str:
    frame = data.per_rep
    if frame.height == 0:
        return _section("Leads per rep", "", _empty("No lead has an owner yet."), "reps")
    series = _funnel_series(frame)
    chart = legend(series) + hbar_chart(frame["rep"].to_list(), series, title="Leads and conversions per rep", overlay=True)
    table = _table(frame, [("rep", "Rep"), ("owner_id", "Owner id"), ("leads", "Leads"), ("mqls", "Reached MQL"),
                           ("converted", "Converted")], numeric=("leads", "mqls", "converted"))
    return _section("Leads and conversions per rep", "Owners assigned by round-robin routing.", chart + table, "reps")


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} s"


#: The columns of the runs table: (heading, numeric).
_RUN_HEADINGS = (
    ("Run", 1), ("Started (UTC)", 0), ("Trigger", 0), ("Status", 0), ("Files", 1), ("Rows read", 1), ("Loaded", 1),
    ("Rejected", 1), ("Duplicates", 1), ("Uncertain pairs", 1), ("Awaiting review", 1), ("MQLs", 1), ("Assigned", 1),
    ("Converted", 1), ("Duration", 1),
)


def _runs(data: ReportData) -> str:
    runs = data.runs
    if runs.height == 0:
        return _section("Recent runs", "", _empty("No pipeline run recorded yet."), "runs")
    rows = []
    for r in runs.iter_rows(named=True):
        started = r["started_at"].strftime("%Y-%m-%d %H:%M") if r["started_at"] else ""
        row_class = ' class="has-error"' if r["error"] else ""  # no line between a run and its error
        rows.append(
            f"<tr{row_class}><td class=\"n\">{_e(r['run_id'])}</td><td class=\"nowrap\">{_e(started)}</td><td>{_e(r['trigger'])}</td>"
            f"<td class=\"status-{_e(r['status'])}\">{_e(r['status'])}</td>"
            + "".join(f'<td class="n">{_num(r[c])}</td>' for c in ("files", "rows_read", "rows_loaded", "rows_rejected",
                                                                   "duplicate_leads", "review_pairs", "review_queue", "mqls", "assignments",
                                                                   "conversions"))
            + f'<td class="n">{_e(_seconds(r["duration_seconds"]))}</td></tr>'
            # the error below its run, the whole table wide (it is long; most runs have none)
            + (f'<tr><td></td><td colspan="{len(_RUN_HEADINGS) - 1}" class="error">{_e(r["error"])}</td></tr>' if r["error"] else "")
        )
    head = "".join(f'<th class="{"n" if n else ""}">{h}</th>' for h, n in _RUN_HEADINGS)
    return _section("Recent runs", "From the pipeline_runs table. Uncertain pairs: those the run scored between the two thresholds; "
                    "awaiting review: the review queue when the run finished (`leadpipe review export`), from every run so far.", f"<div class=\"wide\"><table class=\"compact\"><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>", "runs")


def render_report(data: ReportData, *, generated_at: datetime | None = None) -> str:
    """The whole report page as one HTML string (self-contained: no script, no external resource)."""
    when = (generated_at or utc_now()).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join([_kpis(data.kpis), _funnel(data), _rejects(data), _duplicates(data), _scores(data), _reps(data), _runs(data)])
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<link rel=\"icon\" href=\"data:,\"><title>leadpipe report</title>"
        f"<style>{CSS}</style></head><body><header><h1>Lead pipeline report</h1>"
        f"<p>Generated {escape(when)} from {escape(data.source or 'the warehouse')}</p></header>"
        f"<main>{body}</main><footer>leadpipe · this page is self-contained and works offline</footer></body></html>"
    )
