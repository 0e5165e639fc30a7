"""The dedup stage and the cluster commands, wiring ``matching`` (polars) to ``warehouse`` (DuckDB).

``matching`` and ``warehouse`` may not import each other, so the few steps that pass frames
between them live here, as plain functions (no Prefect): the task and the CLI call them.
Each function runs its writes in one transaction: a crash leaves the warehouse as it was.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from pydantic import ValidationError

from matching.blocking import BLOCK, BlockPlan, blocking_keys, blocks_agree, plan_blocks, shared_blocks
from matching.clustering import members_after
from matching.comparisons import uses_value_counts
from matching.configuration import DedupSettings, Survivorship, unread_fields
from matching.decisions import CANNOT_LINK, MATCH, MUST_LINK, REVIEW_SOURCE, labels_in_play, standing
from matching.edits import CONFLICTS, ClusterEdits, apply_answers, lead_ids_of
from matching.engine import CLUSTER_SIZE, MATCH_COLUMNS, MatchModel, match_leads, pairs_for_storage, refit_model, score_pair
from matching.golden import GOLDEN_INPUT, golden_records
from matching.review_file import read_answers
from transforms import schema as s
from transforms.errors import ConfigError, MatchingError
from transforms.export import write_safe_csv
from warehouse import clusters as wc
from warehouse.connection import Warehouse

log = logging.getLogger(__name__)
_MODEL_KEYS = {"blocking_rules", "comparisons", "must_link", "cannot_link", "non_match_classes"}


@dataclass
class DedupResult:
    """What a dedup run did."""

    #: The run did nothing because matching is turned off (``[dedup] enabled = false``).
    skipped: bool = False
    new_leads: int = 0
    candidate_pairs: int = 0
    linked_pairs: int = 0
    review_pairs: int = 0
    #: Pairs decided a match whose leads the chaining guard left in different clusters (``review export`` lists them).
    kept_apart: int = 0
    #: Golden records the run rebuilt before matching, because the survivorship rules changed (or an
    #: upgrade changed how they are built); None when it rebuilt none that way.
    golden_rebuilt: int | None = None
    golden_rebuilt_because: str | None = None
    new_clusters: int = 0
    joined: int = 0
    merges: int = 0
    splits: int = 0
    model_refitted: bool = False
    #: The largest oversized blocks (rule, key, leads), at most 20; ``oversized_count`` counts them all.
    oversized_blocks: list[tuple[str, str, int]] = field(default_factory=list)
    oversized_count: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def without_duplicate(self) -> int:
        """New leads that matched no other lead (clusters of one): neither the first lead of a new
        cluster nor one that joined a cluster."""
        return self.new_leads - self.new_clusters - self.joined


def _model_settings(settings: DedupSettings) -> str:
    return settings.model_dump_json(include=_MODEL_KEYS)


def _stored_model(wh: Warehouse, settings: DedupSettings) -> tuple[MatchModel | None, bool]:
    """The stored model if it was fitted with the same settings; and whether the keys still apply."""
    stored = wc.latest_model(wh)
    if stored is None:
        return None, True
    parameters, used = stored
    same_rules = json.loads(used).get("blocking_rules") == json.loads(_model_settings(settings)).get("blocking_rules")
    if json.loads(used) != json.loads(_model_settings(settings)):
        return None, same_rules
    return MatchModel.from_json(parameters), True


def rebuild_golden(wh: Warehouse, settings: DedupSettings, cluster_ids: pl.Series, stale: pl.Series | None = None) -> int:
    """Rebuild the golden records of these clusters (and drop those of ``stale`` ids)."""
    cluster_ids = cluster_ids.drop_nulls().unique()
    leads = wc.cluster_leads_for_golden(wh, cluster_ids, GOLDEN_INPUT)
    golden = golden_records(leads, settings.survivorship)
    gone = pl.concat([cluster_ids, stale]) if stale is not None else cluster_ids
    wc.replace_golden(wh, golden, gone)
    return golden.height


#: What a run reads of the leads it compares and of the other members of their clusters.
_READ_COLUMNS = tuple(dict.fromkeys([*MATCH_COLUMNS, *GOLDEN_INPUT]))


def _existing_matches(
    wh: Warehouse, new_keys: pl.DataFrame, settings: DedupSettings,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None, BlockPlan | None]:
    """Clustered leads a new lead can be paired with, the stored keys sharing a block with a new
    lead, every member of the clusters of those leads (``GOLDEN_INPUT``: the clusters a run can
    change, whose golden records it rebuilds), and the block plan that chose the leads (the
    matching joins it).

    All the stored keys are kept (they tell which blocks are oversized), but only the leads that
    share a block small enough to compare are read: in a 1M-lead warehouse, less than half of
    those sharing any key with a batch. Their cluster sizes are counted on the members read.
    """
    keys = wc.stored_keys_sharing(wh, new_keys[BLOCK])
    if keys.is_empty():
        return pl.DataFrame(), keys, None, None
    while True:
        plan = plan_blocks(new_keys, keys, settings.blocking_rules, settings.max_block_size)
        wanted = plan.stored_leads()
        members = wc.clusters_of(wh, wanted, _READ_COLUMNS)
        sizes = members.group_by(s.CLUSTER_ID).agg(pl.len().cast(pl.Int64).alias(CLUSTER_SIZE))
        records = (
            members.filter(pl.col(s.LEAD_ID).is_in(wanted.implode()))
            .select(*MATCH_COLUMNS, s.CLUSTER_ID)
            .join(sizes, on=s.CLUSTER_ID, how="left")
            .sort(s.LEAD_ID)
        )
        unread = wanted.filter(~wanted.is_in(records[s.LEAD_ID].implode()))
        if unread.is_empty():
            return records, keys, members.select(GOLDEN_INPUT), plan
        # keys of a lead with no cluster that is not new (none should be: a lead without a cluster
        # is new): as if never stored; the blocks they were in change size, so decide again
        keys = keys.filter(~pl.col(s.LEAD_ID).is_in(unread.implode()))


@dataclass
class Refit:
    """What ``refit`` did: the pairs it fitted on, the answers among them, the match share."""

    pairs: int
    labelled_match: int
    labelled_non_match: int
    iterations: int
    prior_before: float
    prior_after: float


def refit(wh: Warehouse, settings: DedupSettings) -> Refit:
    """Fit the match model again on the levels of the stored pairs, the review answers fixed.

    Nothing is compared again: ``match_pairs`` holds each pair's levels (the pairs stored since
    the settings last changed count, see ``_stored_patterns``). The pairs a person answered in a
    review (``matching.decisions.with_answers``) count as known matches and non-matches, like the
    pairs the must-link and cannot-link rules decide, so the model learns from them. The new model
    is stored and scores the pairs of later runs; pairs already scored keep their scores,
    decisions and clusters. The random-pair level frequencies and the term-frequency references
    carry over from the model it replaces.

    Raises:
        MatchingError: no model fitted with these settings (none yet, or the settings changed:
            the next dedup run fits one), or a comparison whose levels ``match_pairs`` does not hold.
    """
    settings = check_settings(settings)
    unstored = _unstored_comparisons(settings)
    if unstored:
        raise MatchingError(f"match_pairs does not keep the levels of the comparison(s) {', '.join(unstored)}: cannot refit from stored pairs")
    with wh.transaction():
        stored, _ = _stored_model(wh, settings)
        if stored is None:
            raise MatchingError(
                "no match model fitted with these dedup settings",
                hint="run `leadpipe dedupe` (or a pipeline run) first: a run fits the model when there is none or the settings changed",
            )
        try:
            model, counts = refit_model(_stored_patterns(wh, settings), settings, stored)
        except ValueError as exc:  # levels stored by another version of the comparisons
            raise MatchingError(f"cannot refit from the stored pairs: {exc}", hint="the next dedup run with new settings fits a model") from exc
        wc.save_model(wh, model.to_json(), _model_settings(settings), model.pairs_used, model.prior)
    return Refit(
        pairs=model.pairs_used, labelled_match=counts.get(MUST_LINK, 0), labelled_non_match=counts.get(CANNOT_LINK, 0),
        iterations=model.iterations, prior_before=stored.prior, prior_after=model.prior,
    )


def _stored_patterns(wh: Warehouse, settings: DedupSettings) -> pl.DataFrame:
    """The level patterns and answers of the stored pairs scored under these settings: those
    stored after the newest model fitted with other settings (a change of comparisons, thresholds
    or blocking rules changes what the levels mean and which pairs are candidates)."""
    current = json.loads(_model_settings(settings))
    other = [at for at, used in wc.model_settings_history(wh) if json.loads(used) != current]
    return wc.stored_level_patterns(wh, [c.name for c in settings.comparisons], REVIEW_SOURCE, max(other) if other else None)


def _unstored_comparisons(settings: DedupSettings) -> list[str]:
    """Comparisons whose levels ``match_pairs`` has no column for."""
    return [c.name for c in settings.comparisons if c.name not in wc.PAIR_COMPARISONS]


def _history(wh: Warehouse, settings: DedupSettings) -> Callable[[], pl.DataFrame] | None:
    """The stored pairs' level patterns, read only if a run fits a new model (``match_leads``)."""
    if _unstored_comparisons(settings):
        return None  # levels match_pairs does not keep: a fit sees the batch only
    return lambda: _stored_patterns(wh, settings)


def check_settings(settings: DedupSettings) -> DedupSettings:
    """The settings validated, or refused when a run could only get them wrong. The configuration
    file is checked when it is loaded; settings built in code may have skipped the validators
    (``model_copy(update=...)`` does), so they are validated again here (the validated copy is what
    a run uses: the survivorship fields merged over the built-in ones, as a file's are), and
    their fields checked against what a run reads."""
    try:
        checked = DedupSettings.model_validate(settings.model_dump())
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'dedup'}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise ConfigError("invalid dedup settings: " + "; ".join(problems), key="dedup", hint="see docs/matching.md") from exc
    problems = unread_fields(checked)
    if problems:
        raise ConfigError("invalid dedup settings: " + "; ".join(problems), key="dedup", hint="see docs/matching.md")
    return checked


def _tf_tables(wh: Warehouse, settings: DedupSettings, records: list[pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Per comparison that takes value counts, how many leads of the whole warehouse hold each
    value of ``records`` (as the comparisons take it: trimmed, lower-case)."""
    counted = sorted({c.field for c in settings.comparisons if uses_value_counts(c) and c.field in s.LEAD_DATA_COLUMNS})
    values = pl.concat([frame.select(counted) for frame in records])
    counts = wc.term_frequencies(wh, {f: values[f].cast(pl.String).str.strip_chars().str.to_lowercase() for f in counted})
    return {c.name: counts[c.field] for c in settings.comparisons if c.field in counts and uses_value_counts(c)}


def _golden_up_to_date(wh: Warehouse, settings: DedupSettings) -> tuple[int | None, str | None]:
    """Rebuild every golden record when the survivorship rules are not those they were built with,
    or an upgrade changed how they are built (``maintenance_due``); record the rules. Returns how
    many records were rebuilt and why (None, None: none had to be)."""
    reason = wc.maintenance_due(wh, "rebuild_golden")
    rules = settings.survivorship.model_dump_json()
    changed = not _golden_rules_recorded(wh, settings)
    if reason is None and not changed:
        return None, None
    rebuilt = None
    if wc.has_golden_records(wh):
        if reason is None:
            recorded = wc.golden_rules_applied(wh) is not None
            reason = "the survivorship rules changed" if recorded else "no survivorship rules recorded with them yet"
        log.info("rebuilding every golden record: %s", reason)
        rebuilt = rebuild_golden(wh, settings, wc.clustered_ids(wh), stale=wc.golden_cluster_ids(wh))
    if wc.maintenance_due(wh, "rebuild_golden") is not None:
        wc.maintenance_done(wh, "rebuild_golden")
    if changed:
        wc.record_golden_rules(wh, rules, rebuilt or 0)
    return rebuilt, reason if rebuilt is not None else None


def _golden_rules_recorded(wh: Warehouse, settings: DedupSettings) -> bool:
    """Whether the golden records are recorded as built with rules that build what these build
    (the same rule per group, and the same source order if a group uses it)."""
    applied = wc.golden_rules_applied(wh)
    if applied is None:
        return False
    try:
        recorded = Survivorship.model_validate_json(applied)
    except ValidationError:  # written by another version: not known to be the same
        return False
    return recorded.effective() == settings.survivorship.effective()


def run_dedupe(wh: Warehouse, settings: DedupSettings) -> DedupResult:
    """Cluster every lead loaded since the last run, within the batch and against the warehouse."""
    settings = check_settings(settings)
    result = DedupResult()
    model, keys_valid = _stored_model(wh, settings)
    clock = time.perf_counter()
    with wh.transaction(checkpoint=True):  # a large write: see Warehouse.transaction
        if not keys_valid:
            log.info("blocking rules changed: recomputing the stored keys")
            wc.replace_all_keys(wh)
        elif not blocks_agree(wc.stored_key_sample(wh), settings.blocking_rules):
            log.info("stored block ids are missing or from another version: recomputing the stored keys")
            wc.replace_all_keys(wh)
        rebuilding = time.perf_counter()
        result.golden_rebuilt, result.golden_rebuilt_because = _golden_up_to_date(wh, settings)
        rebuild_seconds = time.perf_counter() - rebuilding  # golden-record work: timed as such, not as reading
        backlog = wc.clustered_without_keys(wh, MATCH_COLUMNS)
        if backlog.height:
            wc.insert_keys(wh, blocking_keys(backlog, settings.blocking_rules))
        new = wc.unclustered_leads(wh, MATCH_COLUMNS)
        result.new_leads = new.height
        if new.is_empty():
            return result
        new_keys = blocking_keys(new, settings.blocking_rules)
        existing, existing_keys, members, plan = _existing_matches(wh, new_keys, settings)
        in_play = pl.concat([new[s.LEAD_ID], existing[s.LEAD_ID]]) if existing.height else new[s.LEAD_ID]
        clusters_in_play = existing[s.CLUSTER_ID] if existing.height else None
        labels = labels_in_play(wc.labels_touching(wh, in_play, clusters_in_play), in_play)
        tf_tables = _tf_tables(wh, settings, [new, existing] if existing.height else [new])
        # the plan is blocking: the engine's timings count it (match_leads adds plan.seconds)
        read_seconds = time.perf_counter() - clock - rebuild_seconds - (plan.seconds if plan is not None else 0.0)
        outcome = match_leads(
            new, settings, new_keys=new_keys, existing=existing if existing.height else None,
            # the stored keys even when no stored lead is read: they keep oversized blocks oversized
            existing_keys=existing_keys if existing_keys.height else None, plan=plan, labels=labels, tf_tables=tf_tables, model=model,
            history=_history(wh, settings),
        )
        clock = time.perf_counter()
        # the golden records are built from the leads as read before the writes (the new ones and
        # every member of the clusters they can join), with the clusters the run gives them; the
        # new leads' other columns are read only now, not held through the matching's peak memory
        before = wc.unclustered_leads(wh, GOLDEN_INPUT)
        before = pl.concat([members, before]) if members is not None else before
        golden_seconds = time.perf_counter() - clock + rebuild_seconds
        clock = time.perf_counter()
        wc.insert_keys(wh, new_keys)
        wc.insert_pairs(wh, pairs_for_storage(outcome.pairs, settings))
        wc.apply_clusters(wh, outcome.clustering.assignment, outcome.clustering.merges)
        wc.insert_events(wh, outcome.events)
        if outcome.refitted:
            wc.save_model(wh, outcome.model.to_json(), _model_settings(settings), outcome.model.pairs_used, outcome.model.prior)
        write_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        # only clusters that gained a new lead or absorbed another changed (existing memberships are
        # never cut): the existing leads in play that kept their cluster keep their golden record
        assignment = outcome.clustering.assignment
        gained = assignment.filter(pl.col(s.LEAD_ID).is_in(new[s.LEAD_ID].implode()))[s.CLUSTER_ID]
        affected = pl.concat([gained, outcome.clustering.merges["new_cluster_id"]]).drop_nulls().unique()
        golden = golden_records(members_after(before, outcome.clustering, affected), settings.survivorship)
        wc.replace_golden(wh, golden, pl.concat([affected, outcome.clustering.merges["old_cluster_id"]]))
        golden_seconds += time.perf_counter() - clock
    events = outcome.events["event"].value_counts()
    counts = dict(zip(events["event"].to_list(), events["count"].to_list(), strict=True))
    result.candidate_pairs = outcome.pairs.height
    result.linked_pairs = outcome.linked_pairs
    result.review_pairs = int(outcome.pairs.filter(pl.col("decision") == "review").height)
    result.kept_apart = _kept_apart(outcome.pairs, outcome.clustering.assignment)
    result.new_clusters = counts.get("create", 0)
    result.joined = counts.get("join", 0)
    result.merges = counts.get("merge", 0)
    result.splits = counts.get("split", 0)
    result.model_refitted = outcome.refitted
    result.oversized_blocks = [tuple(r) for r in outcome.blocking.oversized.head(20).iter_rows()]  # type: ignore[misc]
    result.oversized_count = outcome.blocking.oversized.height
    result.timings = {"read": read_seconds, **outcome.timings, "write": write_seconds, "golden": golden_seconds}
    _log_oversized(result)
    return result


def _kept_apart(pairs: pl.DataFrame, assignment: pl.DataFrame) -> int:
    """How many of the run's pairs decided a match end in different clusters."""
    cluster = assignment.select(s.LEAD_ID, s.CLUSTER_ID)
    linked = pairs.filter(pl.col("decision").is_in([MATCH, MUST_LINK])).select("lead_id_l", "lead_id_r")
    ends = (linked.join(cluster.rename({s.LEAD_ID: "lead_id_l", s.CLUSTER_ID: "_l"}), on="lead_id_l")
            .join(cluster.rename({s.LEAD_ID: "lead_id_r", s.CLUSTER_ID: "_r"}), on="lead_id_r"))
    return ends.filter(pl.col("_l") != pl.col("_r")).height


def _log_oversized(result: DedupResult) -> None:
    """One warning for the run's oversized blocks (how many, the three largest named), and the 20
    largest at debug level: a warehouse with shared switchboards meets the same blocks in every run."""
    if not result.oversized_count:
        return
    largest = ", ".join(f"{rule} {key!r} ({size} leads)" for rule, key, size in result.oversized_blocks[:3])
    more = result.oversized_count - min(3, len(result.oversized_blocks))
    log.warning(
        "%d blocking key(s) shared by more leads than their rule's max_block_size were skipped: %s%s; "
        "the other rules still compare those leads (raise max_block_size to compare them by these keys too)",
        result.oversized_count, largest, f" and {more} more" if more else "",
    )
    for rule, key, size in result.oversized_blocks:
        log.debug("blocking rule %s: key %r is shared by %d leads and was skipped", rule, key, size)


def unmerge(wh: Warehouse, settings: DedupSettings, lead_id: int, note: str | None = None) -> tuple[int, int]:
    """Detach a lead from its cluster and cannot-link it to the other members.

    Returns:
        (the lead's new cluster id, the rest of the cluster's id).

    Raises:
        MatchingError: unknown lead, or a lead alone in its cluster.
    """
    settings = check_settings(settings)  # the golden records it rebuilds follow them
    with wh.transaction():
        edits = ClusterEdits(wc.memberships(wh, [lead_id]))
        if not edits.knows(lead_id):
            raise MatchingError(f"no lead with id {lead_id}", hint="see `leadpipe status` or query the leads table")
        cluster = edits.cluster(lead_id)
        if cluster is None:
            raise MatchingError(f"lead {lead_id} is waiting for a dedup run (it has no cluster yet): nothing to unmerge",
                                hint="run `leadpipe dedupe` first; to keep it apart from a lead, answer 'no' about the pair in a review file")
        if len(edits.members(cluster)) < 2:
            raise MatchingError(f"lead {lead_id} is not in a cluster with other leads: nothing to unmerge")
        rest = edits.detach(lead_id, note, f"lead {lead_id} detached by hand" + (f": {note}" if note else ""))
        _write_edits(wh, settings, edits)
    return lead_id, rest


def _write_edits(wh: Warehouse, settings: DedupSettings, edits: ClusterEdits) -> None:
    """Write what hand edits did: cluster ids, events, cannot-links, the touched golden records."""
    wc.assign_clusters(wh, edits.changed())
    wc.insert_events(wh, edits.events())
    labels = edits.labels()
    if labels.height:
        wc.insert_labels(wh, labels)
    if edits.touched:
        rebuild_golden(wh, settings, pl.Series(sorted(edits.touched), dtype=pl.Int64))
        if wc.golden_rules_applied(wh) is not None and not _golden_rules_recorded(wh, settings):
            # built with rules other than the others': the next dedup run rebuilds them all, whatever its rules
            wc.request_maintenance(wh, "rebuild_golden", "clusters edited with other survivorship rules than the recorded ones")


REVIEW_FIELDS = (s.FIRST_NAME, s.LAST_NAME, s.EMAIL, s.PHONE, s.COMPANY, s.CITY, s.POSTAL_CODE)


def export_review(wh: Warehouse, out: Path, *, force: bool = False) -> int:
    """Write the unlabelled pairs between the thresholds to a CSV with an empty ``label`` column.

    Raises:
        MatchingError: ``out`` exists and holds answers (or is not a review file), unless ``force``:
            a reviewer's work is not overwritten by a new export.
    """
    if out.exists() and out.stat().st_size and not force:
        try:
            answered = len(read_answers(out).answers)
        except MatchingError as exc:
            raise MatchingError(f"{out} exists and cannot be read as a review file ({exc.message})",
                                hint="write to another file with -o, or pass --force to overwrite it") from exc
        if answered:
            raise MatchingError(f"{out} holds {answered} answered row(s): a new export would overwrite them",
                                hint=f"import them first (`leadpipe review import {out}`), write to another file with -o, "
                                     "or pass --force")
    pairs = wc.review_pairs(wh, REVIEW_FIELDS).with_columns(pl.lit("").alias("label"), pl.lit("").alias("note"))
    write_safe_csv(pairs, out)
    return pairs.height


@dataclass
class ReviewImport:
    """What ``import_review`` did: ``counts`` of answers (``must_link``, ``cannot_link``; of them
    ``repeated``: recorded already) and of edits (``merged``, ``detached`` leads, ``conflicts``),
    and the answers not applied to the clusters (``matching.edits.CONFLICTS``: each with the pair
    whose newest label, or rule decision, stopped it), and the cluster events the answers made
    (``merge`` and ``unmerge``, in order: ``ClusterEdits.events``)."""

    counts: dict[str, int]
    conflicts: pl.DataFrame
    events: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: The detached leads that stay converted (``still_converted``).
    converted: pl.DataFrame = field(default_factory=pl.DataFrame)


def import_review(wh: Warehouse, settings: DedupSettings, path: Path) -> ReviewImport:
    """Read a reviewed file back (``matching.review_file``): each answered row becomes a must-link
    or cannot-link label.

    A cannot-link between two leads of one cluster detaches the newer lead (as ``unmerge``); a
    must-link between two clusters merges them (the older id survives). An answer that would
    break the newest label of another pair (a merge across a cannot-link, a detach across a
    must-link) is kept as a label but changes no cluster: a conflict. An answer that is the
    pair's newest label already (the file imported again) is not stored twice. Answers apply in
    file order, as if imported one at a time (``matching.edits``); the whole file is one
    transaction. Blank labels are skipped.

    Raises:
        MatchingError: the file cannot be read or lacks its columns, holds an answer that is not
            understood, pairs a lead with itself, answers one pair twice differently, names a lead
            that does not exist, or answers "match" about a lead no dedup run has clustered yet
            (nothing of it is kept; the message names the row).
    """
    settings = check_settings(settings)  # the golden records it rebuilds follow them
    review = read_answers(path)
    answers = review.answers
    if not answers:
        return ReviewImport({MUST_LINK: 0, CANNOT_LINK: 0, "merged": 0, "detached": 0, "conflicts": 0, "repeated": 0},
                            pl.DataFrame(schema=CONFLICTS))
    with wh.transaction():
        memberships = wc.memberships(wh, lead_ids_of(answers))
        # a rule's must-link or cannot-link decision between members holds as an answer older than any label
        decided = wc.rule_links(wh, memberships[s.LEAD_ID])
        labels = wc.labels_touching(wh, memberships[s.LEAD_ID]).select(decided.columns)
        edits = ClusterEdits(memberships, pl.concat([decided, labels]))
        for (left, right, label, _), row in zip(answers, review.rows, strict=True):
            for lead in (left, right):
                if not edits.knows(lead):
                    raise MatchingError(f"{path}, row {row}: lead {lead} does not exist",
                                        hint="the ids come from `leadpipe review export` of this warehouse: check --db")
                if label == MUST_LINK and edits.cluster(lead) is None:
                    # a "no" about a waiting lead is a label the run respects; a "yes" would only
                    # hold if the run paired the two, which it does only for leads sharing a block
                    raise MatchingError(
                        f"{path}, row {row}: lead {lead} is waiting for a dedup run, so a match answer about it cannot be applied",
                        hint="run `leadpipe dedupe` first, then import the file again",
                    )
        counts = apply_answers(edits, answers)
        _write_edits(wh, settings, edits)
        events = edits.events()
        # the detached leads that a later answer did not merge back
        converted = still_converted(wh, edits.separated(events.filter(pl.col("event") == "unmerge")[s.LEAD_ID].to_list()))
    return ReviewImport(counts, edits.conflicts(), events, converted)


def still_converted(wh: Warehouse, lead_ids: list[int]) -> pl.DataFrame:
    """Of the given (detached) leads, those converted with their former cluster (``lead_id``,
    ``converted_contact_id``): a detach does not undo a conversion (a converted lead is never
    modified, as in a CRM), so a person may have to check that contact."""
    return wc.converted_leads(wh, lead_ids)


@dataclass
class Explanation:
    """Why a lead is in its cluster: the members, the scored pairs among them, the history."""

    lead_id: int
    cluster_id: int | None
    members: pl.DataFrame
    pairs: pl.DataFrame
    history: pl.DataFrame
    comparisons: list[str]
    #: Every must/cannot-link label of the lead (``labels_between``), oldest first.
    labels: pl.DataFrame
    #: Leads a run matched with this one that are in another cluster (``warehouse.clusters.kept_apart``).
    kept_apart: pl.DataFrame


def explain(wh: Warehouse, settings: DedupSettings, lead_id: int) -> Explanation:
    """Gather what `leadpipe explain` shows.

    Raises:
        MatchingError: no such lead.
    """
    cluster, members = wc.cluster_members(wh, lead_id)
    if not members:
        raise MatchingError(f"no lead with id {lead_id}", hint="see `leadpipe status` or query the leads table")
    pairs = wc.explain_pairs(wh, cluster) if cluster is not None else pl.DataFrame()
    history = wc.cluster_history(wh, [cluster] if cluster is not None else [])
    names = [c.name for c in settings.comparisons if c.name in wc.PAIR_COMPARISONS]
    return Explanation(lead_id, cluster, wc.lead_summaries(wh, members), pairs, history, names, wc.labels_between(wh, lead_id),
                       wc.kept_apart(wh, lead_id))


@dataclass
class PairExplanation:
    """Why two leads are, or are not, in one cluster (``leadpipe explain A --with B``)."""

    #: Both leads, by lead id: ``lead_id``, ``cluster_id`` and the fields a person recognises them by.
    leads: pl.DataFrame
    #: The blocking keys they share (``matching.blocking.shared_blocks``, sizes as the next run
    #: counts them: the stored keys and those of the leads waiting for it); none: no run compares them.
    blocks: pl.DataFrame
    #: False when the stored keys are from other blocking rules, or missing while leads are
    #: clustered (the next run recomputes them): the blocks' sizes are not known.
    sizes_known: bool
    #: The newest ``match_pairs`` row of the two, if a run scored them.
    stored: dict | None
    #: The two compared and scored now with the newest model fitted with these settings (None: no such model).
    now: dict | None
    #: Must/cannot-link labels between the two (``label``, ``source``, ``note``, ``created_at``), oldest first.
    labels: pl.DataFrame
    #: Cannot-links between other members of their two clusters (``labels_touching``), which keep the clusters apart.
    apart_by: pl.DataFrame
    comparisons: list[str]

    @property
    def cluster_ids(self) -> list[int | None]:
        return self.leads[s.CLUSTER_ID].to_list()

    @property
    def same_cluster(self) -> bool:
        first, second = self.cluster_ids
        return first is not None and first == second

    @property
    def waiting(self) -> list[int]:
        """The leads of the two loaded since the last dedup run (no cluster yet)."""
        return [lead for lead, cluster in zip(self.leads[s.LEAD_ID].to_list(), self.cluster_ids, strict=True) if cluster is None]

    @property
    def rules_within_cap(self) -> list[str]:
        return _rules_within_cap(self.blocks)

    @property
    def next_run_compares(self) -> bool:
        """Whether the next dedup run compares them: one is waiting for it and a shared key is within its cap
        (a run compares new leads only: two clustered leads are never compared again)."""
        return bool(self.waiting) and self.sizes_known and bool(self.rules_within_cap)

    @property
    def newest_label(self) -> str | None:
        """The newest label between them (must_link / cannot_link), or None."""
        return self.labels["label"][-1] if self.labels.height else None


def _rules_within_cap(blocks: pl.DataFrame) -> list[str]:
    """The rules of the shared keys within their cap (sizes not known: every shared rule)."""
    return blocks.filter(pl.col("within_cap").fill_null(True))["rule"].unique(maintain_order=True).to_list()


def explain_pair(wh: Warehouse, settings: DedupSettings, lead_id: int, other_id: int) -> PairExplanation:
    """Gather what `leadpipe explain LEAD --with OTHER` shows: the blocking keys the two leads
    share (and whether a run compares them there), the stored score if a run scored them, their
    score now under the current model, the labels between them and between their clusters.

    Raises:
        MatchingError: the same lead twice, or no such lead.
    """
    settings = check_settings(settings)
    if lead_id == other_id:
        raise MatchingError(f"both leads are lead {lead_id}", hint="give two different lead ids")
    ids = sorted((lead_id, other_id))
    records = wc.leads_by_id(wh, ids, list(dict.fromkeys([*MATCH_COLUMNS, s.CLUSTER_ID, *wc.SUMMARY_COLUMNS])))
    for lead in (lead_id, other_id):
        if lead not in records[s.LEAD_ID].to_list():
            raise MatchingError(f"no lead with id {lead}", hint="see `leadpipe status` or query the leads table")
    fields = records.select(MATCH_COLUMNS)
    rules = settings.blocking_rules
    keys = blocking_keys(fields, rules)
    model, keys_valid = _stored_model(wh, settings)
    # the next run recomputes the stored keys when they are from other rules, and computes those
    # of clustered leads when none is stored (a warehouse clustered before keys were stored)
    sample = wc.stored_key_sample(wh)
    sizes_known = keys_valid and blocks_agree(sample, rules) and not (sample.is_empty() and wc.any_clustered(wh))
    others = None
    if sizes_known:
        # as the next run counts a block: the stored keys of the other leads, and the keys of the
        # other leads waiting for it (a lead holding a block twice counts twice, as in the run)
        waiting = wc.unclustered_leads(wh, MATCH_COLUMNS).filter(~pl.col(s.LEAD_ID).is_in(ids))
        held = pl.concat([
            wc.stored_keys_sharing(wh, keys[BLOCK]).filter(~pl.col(s.LEAD_ID).is_in(ids)).select(BLOCK),
            blocking_keys(waiting, rules).filter(pl.col(BLOCK).is_in(keys[BLOCK].implode())).select(BLOCK),
        ])
        others = held.group_by(BLOCK).agg(pl.len().cast(pl.Int64).alias("others"))
    blocks = shared_blocks(keys, len(ids), others, rules, settings.max_block_size)
    labels = wc.labels_between(wh, *ids)
    clusters = records[s.CLUSTER_ID]
    apart_by = pl.DataFrame(schema=wc.LABELS_TOUCHING)
    if clusters.null_count() == 0 and clusters.n_unique() == 2:
        both = standing(wc.labels_touching(wh, pl.Series([], dtype=pl.Int64), clusters))
        apart_by = both.filter(
            (pl.col("label") == CANNOT_LINK) & pl.col("cluster_id_l").is_in(clusters.implode())
            & pl.col("cluster_id_r").is_in(clusters.implode()) & (pl.col("cluster_id_l") != pl.col("cluster_id_r"))
        ).unique(["lead_id_l", "lead_id_r"], keep="first", maintain_order=True)
    now = None
    if model is not None:
        now = score_pair(
            fields, settings, model, _tf_tables(wh, settings, [fields]), blocking_rules=_rules_within_cap(blocks),
            labels=labels.select(wc.LABEL_COLUMNS),
        )
    leads = records.select(s.LEAD_ID, s.CLUSTER_ID, *wc.SUMMARY_COLUMNS[1:])  # by lead id, as read
    names = [c.name for c in settings.comparisons if c.name in wc.PAIR_COMPARISONS]
    return PairExplanation(leads, blocks, sizes_known, wc.stored_pair(wh, *ids), now, labels, apart_by, names)
