"""The matching commands of `leadpipe`: dedupe, explain, unmerge, review export/import/refit.

Registered on the app of :mod:`flows.cli` (imported at its end). Orders calls and prints; no logic.
Commands that write hold the warehouse's run lock, like a pipeline run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import typer
from rich.markup import escape
from rich.table import Table

from flows.cli import (
    ConfigOption, DbOption, NoWaitOption, _errors, _fast_flows, _progress, app, console, err, frame_table, readable_warehouse,
    require_warehouse, writable_warehouse,
)
from flows.config import load_settings
from flows.dedupe_run import Explanation, PairExplanation, explain_pair
from flows.dedupe_run import explain as explain_lead
from flows.dedupe_run import export_review, import_review, refit, still_converted
from flows.dedupe_run import unmerge as unmerge_lead
from matching.decisions import CANNOT_LINK, MATCH, MUST_LINK
from transforms import schema as s

review_app = typer.Typer(help="Uncertain duplicate pairs: export them for a person to decide, import the answers, refit the model on them.",
                         no_args_is_help=True)
app.add_typer(review_app, name="review")


@app.command()
def dedupe(db: DbOption = None, config: ConfigOption = None, no_wait: NoWaitOption = False) -> None:
    """Find duplicates among the leads loaded since the last run and against the whole warehouse."""
    from flows.pipeline import dedupe as dedupe_flow

    with _errors():
        settings = load_settings(config, db)
        require_warehouse(settings)
        with _fast_flows(), _progress("starting Prefect"):
            result = dedupe_flow(settings.warehouse.path, config, lock_wait_seconds=0 if no_wait else None)
    if result.skipped:
        console.print(r"matching is turned off (\[dedup] enabled = false): nothing was matched")
        return
    if result.golden_rebuilt is not None:
        console.print(f"{result.golden_rebuilt} golden record(s) rebuilt first: {result.golden_rebuilt_because}")
    if not result.new_leads:
        console.print("no lead loaded since the last dedup run: nothing to match")
        return
    console.print(
        f"{result.new_leads} new leads, {result.candidate_pairs} pairs compared, {result.linked_pairs} linked; "
        f"{result.new_clusters} new clusters, {result.joined} leads joined a cluster, "
        f"{result.without_duplicate} without a duplicate; {result.merges} merges, "
        f"{result.splits} split(s) by the chaining guard, {result.review_pairs} pairs to review"
        + (f" and {result.kept_apart} matched pair(s) kept apart by the guard (`leadpipe review export` lists both)"
           if result.kept_apart else "")
    )


#: Why an exact agreement can weigh little or count against a match (printed under such pairs).
WEAK_AGREEMENT_NOTE = (
    "[dim]An exact agreement can weigh little or even count against a match: each pair is weighed against "
    "the kind of different people it most resembles (colleagues share a company and a phone, namesakes a name, "
    "neighbours an address), among whom that field agrees too; and a common value (a frequent surname, a large "
    "company) says less than a rare one.[/]"
)


def weak_agreements(pair: dict, comparisons: list[str]) -> list[str]:
    """The comparisons on which a stored pair agrees exactly yet weighs under half a bit."""
    return [name for name in comparisons
            if pair.get(f"level_{name}") == "exact" and (pair.get(f"weight_{name}") or 0.0) < 0.5]


def _weights_table(pair: dict, comparisons: list[str]) -> Table:
    table = Table(title=f"lead {pair['lead_id_l']} ~ lead {pair['lead_id_r']}: "
                        f"p = {pair['match_probability']:.4f}, {pair['decision']} ({pair['decided_by']})",
                  title_justify="left")
    table.add_column("field")
    table.add_column("level")
    table.add_column("weight (bits)", justify="right")
    table.add_column("")
    for name in comparisons:
        level = pair.get(f"level_{name}")
        weight = pair.get(f"weight_{name}") or 0.0
        bar = ("+" * min(int(round(weight)), 20)) if weight > 0 else ("-" * min(int(round(-weight)), 20))
        style = "green" if weight > 0.5 else "red" if weight < -0.5 else "dim"
        table.add_row(name, str(level), f"{weight:+.2f}", f"[{style}]{bar}[/]")
    table.add_row("prior", "", f"{pair['prior_weight']:+.2f}", "")
    rules = ", ".join(pair["blocking_rules"] or []) or "no rule (no run pairs them)"
    table.add_row("[bold]total[/]", f"blocked by {rules}", f"[bold]{pair['match_weight']:+.2f}[/]", "")
    return table


@app.command()
def explain(
    lead_id: Annotated[int, typer.Argument(help="The lead to explain.")],
    db: DbOption = None,
    config: ConfigOption = None,
    all_pairs: Annotated[bool, typer.Option("--all", help="Show every scored pair in the cluster, not only the lead's.")] = False,
    other: Annotated[Optional[int], typer.Option(
        "--with", help="Another lead: why the two are (or are not) duplicates: shared blocking keys, stored and current score.",
    )] = None,
) -> None:
    """Why a lead is in its cluster: its duplicates, the pairs that tie them, each field's weight."""
    if other is not None:
        if all_pairs:
            err.print("[bold red]error:[/] --all shows a cluster's pairs and --with one pair: give one of them")
            raise typer.Exit(2)
        _explain_pair(lead_id, other, db, config)
        return
    with _errors():
        settings = load_settings(config, db)
        with readable_warehouse(settings) as (wh, _source):
            found = explain_lead(wh, settings.dedup, lead_id)
    title = f"Cluster {found.cluster_id}: {found.members.height} lead(s)" if found.cluster_id is not None else f"Lead {lead_id}"
    members = Table(title=title, title_justify="left")
    for col in ("lead_id", "first_name", "last_name", "email", "phone", "company", "city", "source_file"):
        members.add_column(col)
    for row in found.members.iter_rows(named=True):
        style = "bold" if row["lead_id"] == lead_id else ""
        cells = ["" if row[c] is None else escape(str(row[c])) for c in
                 ("lead_id", "first_name", "last_name", "email", "phone", "company", "city", "source_file")]
        members.add_row(*[f"[{style}]{cell}[/]" if style and cell else cell for cell in cells])
    console.print(members)
    if found.cluster_id is None:
        console.print("This lead has no cluster yet: it was loaded after the last dedup run. "
                      "Run `leadpipe dedupe` (or a pipeline run) to find its duplicates.")
        return
    if found.members.height == 1:
        if found.kept_apart.height:
            console.print("This lead is alone in its cluster, but a run matched it with other leads:")
        else:
            apart = found.labels.filter(pl.col("label") == CANNOT_LINK).height > 0
            console.print("This lead has no duplicate" + (": cannot-link labels keep it apart from other leads (below)." if apart else "."))
        _labels_and_history(found)
        return
    pairs = found.pairs
    if not all_pairs and pairs.height:
        pairs = pairs.filter((pl.col("lead_id_l") == lead_id) | (pl.col("lead_id_r") == lead_id))
    if pairs.is_empty():
        console.print("No scored pair touches this lead directly: it is in the cluster through the other members "
                      "(use --all), or by a label (review or unmerge).")
    shown = list(pairs.head(20).iter_rows(named=True))
    for pair in shown:
        console.print(_weights_table(pair, found.comparisons))
    if any(weak_agreements(pair, found.comparisons) for pair in shown):
        console.print(WEAK_AGREEMENT_NOTE)
    _labels_and_history(found)


def _label_line(label: dict, lead_id: int | None = None) -> str:
    """One must/cannot-link label as a sentence (naming the other lead when ``lead_id`` is given)."""
    answer = "the same person" if label["label"] == MUST_LINK else "different people"
    other = ""
    if lead_id is not None:
        other = f" with lead {label['lead_id_r'] if label['lead_id_l'] == lead_id else label['lead_id_l']}"
    note = f": {escape(label['note'])}" if label["note"] else ""
    return f"Labelled {answer}{other} ({label['label']}, by {escape(label['source'])}, {label['created_at']:%Y-%m-%d %H:%M}){note}"


def _labels_and_history(found: Explanation) -> None:
    for pair in found.kept_apart.iter_rows(named=True):
        console.print(f"Matched with lead {pair['other']} (p={pair['match_probability']}, {escape(pair['decided_by'])}), which is in "
                      f"cluster {pair['cluster_id']}: kept apart (`leadpipe explain {found.lead_id} --with {pair['other']}` says why; "
                      "`leadpipe review export` lists the pair for a person to decide).")
    for label in found.labels.iter_rows(named=True):
        console.print(_label_line(label, found.lead_id))
    if found.history.height:
        console.print(frame_table(found.history, "Cluster history"))


_PAIR_COLUMNS = ("lead_id", "cluster_id", "first_name", "last_name", "email", "phone", "company", "city", "source_file")


def _same_score(stored: dict, now: dict, comparisons: list[str]) -> bool:
    """Whether a pair scored now has the levels, weights and decision a run stored."""
    keys = [f"{kind}_{name}" for name in comparisons for kind in ("level", "weight")]
    return all(stored.get(k) == now.get(k) for k in [*keys, "match_probability", "decision", "decided_by"])


def _pair_verdict(found: PairExplanation) -> str:
    first = found.leads[s.LEAD_ID][0]
    cluster_l, cluster_r = found.cluster_ids
    if found.same_cluster:
        if found.newest_label == MUST_LINK:
            return f"Both leads are in cluster {cluster_l}: duplicates, as a person labelled them."
        if found.newest_label == CANNOT_LINK:
            return (f"Both leads are in cluster {cluster_l}, although the newest label says different people: a review answer "
                    "that conflicted with other answers (kept as a label, it changed no cluster), or a merge made before "
                    f"review imports checked for conflicts (2026-12-07). `leadpipe unmerge {found.leads[s.LEAD_ID][1]}` detaches one.")
        linked = any(pair is not None and pair["decision"] in (MATCH, MUST_LINK) for pair in (found.stored, found.now))
        return f"Both leads are in cluster {cluster_l}: duplicates" + (
            "." if linked else f", tied through other members of the cluster (`leadpipe explain {first} --all` shows its pairs)."
        )
    if found.waiting:
        names = " and ".join(f"lead {lead}" for lead in found.waiting)
        one = len(found.waiting) == 1
        return (f"Not clustered yet: {names} {'has' if one else 'have'} not been through a dedup run since loaded "
                f"(`leadpipe dedupe` clusters {'it' if one else 'them'}).")
    if found.newest_label == MUST_LINK:
        return (f"Different clusters ({cluster_l} and {cluster_r}), although the newest label says the same person: a review "
                "answer that conflicted with cannot-links between the two clusters (kept as a label, it changed no cluster).")
    return f"Different clusters ({cluster_l} and {cluster_r}): not duplicates."


def _blocks_table(found: PairExplanation) -> Table:
    table = Table(title="Blocking keys they share (a run compares two leads only in a block they share)", title_justify="left")
    for column in ("rule", "key", "leads holding it", "rule's cap", "within the cap"):
        table.add_column(column, justify="right" if column in ("leads holding it", "rule's cap") else "left")
    for row in found.blocks.iter_rows(named=True):
        within = ("?" if row["within_cap"] is None else "[green]yes[/]" if row["within_cap"] else "[red]no: oversized, skipped[/]")
        table.add_row(escape(row["rule"]), escape(row["key"]), "?" if row["size"] is None else str(row["size"]), str(row["cap"]), within)
    return table


def _comparison_line(found: PairExplanation) -> str | None:
    """Whether a run compares the two, and why not."""
    if found.blocks.is_empty():
        return ("They share no blocking key, so no dedup run compares them: the rules pair leads that share an e-mail, a phone, "
                "a surname at one company and so on (`leadpipe config show`, docs/matching.md).")
    if not found.waiting:
        if found.stored is not None:
            return ("A run compared them when one of them was new (its score below); no run compares two clustered leads again.")
        return ("Both are clustered and no run compared them: a run compares each lead when it is new, with the leads in its "
                "blocks then, and never compares two clustered leads again (the keys they share were over their cap then, "
                "or the blocking rules have changed since).")
    if not found.sizes_known:
        return ("The stored blocking keys are from other blocking rules, or missing: the next dedup run recomputes them, and "
                "how many leads hold these keys is known only then.")
    if not found.rules_within_cap:
        return ("Every key they share is held by more leads than its rule's cap, so the next run does not compare them "
                "(raise the rule's max_block_size to compare such blocks).")
    return f"The next dedup run compares them ({', '.join(found.rules_within_cap)})."


def _apart_line(found: PairExplanation) -> str | None:
    """Why two leads a run would link are in different clusters."""
    if found.same_cluster or found.waiting or not any(
        pair is not None and pair["decision"] in (MATCH, MUST_LINK) for pair in (found.stored, found.now)
    ):
        return None
    if found.apart_by.height:
        ties = "; ".join(f"lead {row['lead_id_l']} and lead {row['lead_id_r']} ({escape(row['source'])})"
                         for row in found.apart_by.head(5).iter_rows(named=True))
        return f"They match, but cannot-link labels between their clusters keep them apart: {ties}."
    return ("They match, but a run split them apart (a weak tie in a cluster larger than max_cluster_size, or one holding a "
            "cannot-link): `leadpipe explain` of either lead shows its cluster's history.")


def _explain_pair(lead_id: int, other: int, db: str | None, config: str | None) -> None:
    """`leadpipe explain LEAD --with OTHER`: why two leads are, or are not, duplicates."""
    with _errors():
        settings = load_settings(config, db)
        with readable_warehouse(settings) as (wh, _source):
            found = explain_pair(wh, settings.dedup, lead_id, other)
    console.print(frame_table(found.leads.select(_PAIR_COLUMNS), f"Lead {lead_id} and lead {other}"))
    console.print(_pair_verdict(found))
    for label in found.labels.iter_rows(named=True):
        console.print(_label_line(label))
    if found.blocks.height:
        console.print(_blocks_table(found))
    for line in (_comparison_line(found), _apart_line(found)):
        if line:
            console.print(line)
    shown = []
    if found.stored is not None:
        console.print(f"Scored by the dedup run of {found.stored['created_at']:%Y-%m-%d %H:%M}:")
        console.print(_weights_table(found.stored, found.comparisons))
        shown.append(found.stored)
    else:
        console.print("No dedup run has scored this pair.")
    if found.now is None:
        console.print("No match model is fitted with the current dedup settings (none yet, or the settings changed): "
                      "the next dedup run with new leads fits one.")
    else:
        when = ("as the next run will score them, unless it fits a new model" if found.next_run_compares
                else "if a run compared them again" if found.stored is not None else "if a run compared them")
        if found.stored is not None and _same_score(found.stored, found.now, found.comparisons):
            console.print(f"Compared now with the current model and settings ({when}): the same levels, weights and decision.")
        else:
            console.print(f"Compared now with the current model and settings ({when}):")
            console.print(_weights_table(found.now, found.comparisons))
            shown.append(found.now)
    if any(weak_agreements(pair, found.comparisons) for pair in shown):
        console.print(WEAK_AGREEMENT_NOTE)


@app.command()
def unmerge(
    lead_id: Annotated[int, typer.Argument(help="The lead to take out of its cluster.")],
    note: Annotated[Optional[str], typer.Option(help="Why (kept with the cannot-link labels).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    no_wait: NoWaitOption = False,
) -> None:
    """Detach a lead from its cluster; it stays apart in every later run (cannot-link labels)."""
    with _errors():
        settings = load_settings(config, db)
        with writable_warehouse(settings.warehouse.path, no_wait) as wh:
            own, rest = unmerge_lead(wh, settings.dedup, lead_id, note)
            converted = still_converted(wh, [lead_id])
    console.print(f"lead {lead_id} is now cluster {own} on its own; the rest of its cluster is cluster {rest}")
    if (line := _converted_line(converted)) is not None:
        console.print(line)


@review_app.command("export")
def review_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")] = Path("review.csv"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file even if it holds answers.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the pairs the model is unsure about to a CSV; fill its 'label' column (match / no)."""
    with _errors():
        settings = load_settings(config, db)
        with readable_warehouse(settings) as (wh, _source):
            count = export_review(wh, out, force=force)
    console.print(f"{count} pairs written to {escape(str(out))}: put match or no in the label column, then "
                  f"`leadpipe review import {escape(str(out))}`")


@review_app.command("import")
def review_import(
    path: Annotated[Path, typer.Argument(help="The reviewed CSV.", exists=True, dir_okay=False)],
    db: DbOption = None,
    config: ConfigOption = None,
    no_wait: NoWaitOption = False,
) -> None:
    """Read reviewed pairs back as must-link / cannot-link labels, merging and detaching leads; answers that contradict other labels are kept but change no cluster."""
    with _errors():
        settings = load_settings(config, db)
        with writable_warehouse(settings.warehouse.path, no_wait) as wh:
            done = import_review(wh, settings.dedup, path)
    counts = done.counts
    answered = counts[MUST_LINK] + counts[CANNOT_LINK]
    if not answered:
        console.print(f"no answered row in {escape(str(path))} (the label column is empty): nothing imported; "
                      "put match or no in the label column of the pairs you checked")
        return
    console.print(
        f"{answered} answer(s) imported from {escape(str(path))}: {counts[MUST_LINK]} match (must-link), "
        f"{counts[CANNOT_LINK]} not a match (cannot-link); {counts['merged']} cluster merge(s), "
        f"{counts['detached']} lead(s) detached"
        + (f"; {counts['repeated']} answer(s) were recorded already (not stored again)" if counts["repeated"] else "")
    )
    for line in _edit_lines(done.events):
        console.print(line)
    if (line := _converted_line(done.converted)) is not None:
        console.print(line)
    if done.conflicts.height:
        console.print(frame_table(_conflict_rows(done.conflicts), f"{done.conflicts.height} answer(s) kept as labels but not applied to the clusters"))
        console.print("each contradicts the newest label of another pair (an earlier answer, in this file or before it, or the "
                      "cannot-links an unmerge or a detaching answer wrote) or a cannot-link rule's decision; "
                      "`leadpipe explain LEAD --with OTHER` shows a pair's "
                      "labels, `leadpipe unmerge LEAD` detaches a lead by hand")
    console.print("`leadpipe review refit` fits the match model again with these answers, for later runs")


#: How many merges and detachments ``review import`` names one by one (a large file: the counts say the rest).
_EDITS_SHOWN = 20


def _edit_lines(events: pl.DataFrame) -> list[str]:
    """One line per merge and per group of leads detached together, in the order the answers made
    them: a count of detached leads does not say which they were (a "no" takes the leads tied to
    the newer one along)."""
    if events.is_empty():
        return []
    # one edit's events are consecutive and share everything but the lead (the same pair answered
    # twice in a file makes two edits alike: consecutive runs, not a group-by, keep them apart)
    key = pl.struct("event", "cluster_id", "other_cluster_id", "detail").rle_id().alias("step")
    steps = (events.with_columns(key).group_by("step", maintain_order=True)
             .agg(pl.col("event", "cluster_id", "other_cluster_id", "detail").first(), pl.col("lead_id").sort()))
    lines = []
    for step in steps.head(_EDITS_SHOWN).iter_rows(named=True):
        if step["event"] == "merge":
            lines.append(f"merged cluster {step['other_cluster_id']} into {step['cluster_id']} ({escape(step['detail'])})")
        else:  # unmerge: cluster_id is what is left, other_cluster_id the part detached
            rest, own = step["cluster_id"], step["other_cluster_id"]
            leads = ", ".join(map(str, step["lead_id"]))
            lines.append(f"detached lead(s) {leads} from cluster {min(rest, own)}: now cluster {own}"
                         + (f", the rest cluster {rest}" if rest != min(rest, own) else "") + f" ({escape(step['detail'])})")
    if steps.height > _EDITS_SHOWN:
        lines.append(f"... and {steps.height - _EDITS_SHOWN} more merge(s) or detachment(s) (`leadpipe explain LEAD` shows a lead's cluster history)")
    return lines


def _converted_line(converted: pl.DataFrame) -> str | None:
    """What a detach leaves as it was: a converted lead stays converted to its former cluster's
    contact (a conversion is never undone, as in a CRM)."""
    if converted.is_empty():
        return None
    leads = ", ".join(f"{lead} (contact {contact})" for lead, contact in converted.iter_rows())
    return (f"still converted: lead(s) {leads}. They were converted with their former cluster and a conversion is "
            "never undone: check those contacts if a detached lead is another person")


def _conflict_rows(conflicts: pl.DataFrame) -> pl.DataFrame:
    """The conflicting answers as a reader takes them: the answer, and the label that stopped it."""
    return conflicts.select(
        pl.format("{} and {}", "lead_id_l", "lead_id_r").alias("leads"),
        pl.col("label").replace_strict({MUST_LINK: "match", CANNOT_LINK: "not a match"}).alias("answer"),
        pl.when((pl.col("label") == MUST_LINK) & pl.col("blocked_by_source").str.starts_with("rule:").fill_null(False))
        .then(pl.format("a rule ({}) decided leads {} and {} are different people, one in each cluster",
                        pl.col("blocked_by_source").str.strip_prefix("rule:"), "blocked_by_l", "blocked_by_r"))
        .when(pl.col("label") == MUST_LINK)
        .then(pl.format("leads {} and {} are labelled not a match, one in each cluster", "blocked_by_l", "blocked_by_r"))
        .otherwise(pl.format("match labels tie the two leads through other members of their cluster (leads {} and {} "
                             "are labelled match)", "blocked_by_l", "blocked_by_r"))
        .alias("not applied because"),
    )


@review_app.command("refit")
def review_refit(db: DbOption = None, config: ConfigOption = None, no_wait: NoWaitOption = False) -> None:
    """Fit the match model again on the stored pairs, the reviewed pairs as known answers.

    Nothing is compared again; the pairs stored since the dedup settings last changed count. Later runs score their pairs with the new model; pairs already
    scored keep their scores, decisions and clusters.
    """
    with _errors():
        settings = load_settings(config, db)
        with writable_warehouse(settings.warehouse.path, no_wait) as wh:
            done = refit(wh, settings.dedup)
    console.print(
        f"model fitted again on {done.pairs:,} stored pairs, {done.labelled_match:,} answered match and "
        f"{done.labelled_non_match:,} not a match ({done.iterations} EM iterations); share of matches among "
        f"candidate pairs {done.prior_before:.2%} -> {done.prior_after:.2%}. Later runs score new pairs with it."
    )
