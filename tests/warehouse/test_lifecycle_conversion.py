"""Qualification, routing and conversion through the warehouse (in-memory DuckDB).

Golden records are written by the test helper (tests/lifecycle_data.py), not by the matching
engine, so these tests do not depend on it.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from flows.lifecycle import convert_stage, import_reps_stage, qualify_stage, route_stage
from tests.lifecycle_data import add_lead, build_golden
from transforms.configuration import ConvertSettings, QualifySettings, RoutingSettings
from transforms.criteria import Criterion
from transforms.errors import ConfigError
from transforms.routing_config import OutOfOffice, Queue, Rep
from transforms.scoring import STATUS_CONVERTED, STATUS_MQL, STATUS_OPEN
from warehouse import conversion
from warehouse.connection import Warehouse

NOW = datetime(2026, 11, 23, 10)
ROUTING = RoutingSettings(reps=(Rep(id="a"), Rep(id="b")), queues=(Queue(id="q", members=("a", "b")),), default_owner="q")


def leads(wh: Warehouse, cols: str) -> list[tuple]:
    return wh.rows(f"SELECT lead_id, {cols} FROM leads ORDER BY lead_id")


def hot(wh: Warehouse, lead_id: int, cluster_id: int | None = None, **values) -> None:  # type: ignore[no-untyped-def]
    base = dict(title="VP Sales", country="DE", company_domain="acme.com", form_name="Request a demo", submitted_at="2026-11-22")
    add_lead(wh, lead_id, cluster_id=cluster_id or lead_id, **{**base, **values})


def test_qualification_is_per_cluster_from_the_golden_record_with_factors(wh: Warehouse) -> None:
    hot(wh, 1, email="ann@acme.com")
    hot(wh, 2, cluster_id=1, email="ann@acme.com", title=None)  # duplicate without title: the golden one counts
    add_lead(wh, 3, source_kind="bulk", title="student", lead_source="Purchased List")
    add_lead(wh, 4, title="CEO", country="US", company_domain="x.com", extra='{"Request a demo": "Yes"}')  # no golden row yet
    build_golden(wh)
    wh.execute("DELETE FROM lead_golden WHERE cluster_id = 4")
    assert qualify_stage(wh, QualifySettings(), NOW) == 4
    rows = leads(wh, "score, grade, status")
    assert rows[0][1:] == rows[1][1:] and rows[0][3] == STATUS_MQL
    assert rows[2][3] == STATUS_OPEN and rows[2][2] in ("F", "D-")
    assert rows[3][1] > 2  # the demo request in leads.extra scored (fallback: the cluster's own lead)
    factors = wh.rows("SELECT kind, factor FROM lead_score_factors WHERE cluster_id = 1 ORDER BY kind, rank")
    assert ("score", "demo request") in factors and ("grade", "senior title") in factors
    assert qualify_stage(wh, QualifySettings(), NOW) == 0  # nothing changed
    assert wh.scalar("SELECT count(*) FROM lead_score_factors WHERE cluster_id = 1") == len(factors)  # replaced, not added


def test_routing_persists_rotation_logs_and_sticks_to_the_cluster_owner(wh: Warehouse) -> None:
    for i in (1, 2, 3):
        add_lead(wh, i)
    assert route_stage(wh, ROUTING, NOW) == 3
    assert [r[1] for r in leads(wh, "owner_id")] == ["a", "b", "a"]
    for i in (4, 5):
        add_lead(wh, i)
    add_lead(wh, 6, cluster_id=1)  # a new duplicate of lead 1: goes to a, outside the rotation
    assert route_stage(wh, ROUTING, NOW) == 3
    assert [r[1] for r in leads(wh, "owner_id")] == ["a", "b", "a", "b", "a", "a"]
    log = wh.rows("SELECT lead_id, owner_id, rule, cluster_id, queue_id, previous_owner_id FROM assignments ORDER BY lead_id")
    assert log[-1] == (6, "a", "sticky_cluster", 1, None, None)
    assert len(log) == 6
    assert wh.rows("SELECT queue, next_position, assigned_total FROM routing_state") == [("q", 1, 5)]
    assert route_stage(wh, ROUTING, NOW) == 0  # owned leads are not reassigned


def test_caps_out_of_office_csv_reps_and_queue_holding(wh: Warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = RoutingSettings(
        reps=(Rep(id="a", daily_cap=1), Rep(id="b", out_of_office=(OutOfOffice(start=date(2026, 11, 20), end=date(2026, 11, 30)),))),
        queues=(Queue(id="q", members=("a", "b")),), default_owner="q",
    )
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,name,weight,daily_cap,queues\nc,Cleo,2,2,q\n", encoding="utf-8")
    assert import_reps_stage(wh, reps, cfg, NOW) == 1
    for i in range(1, 7):
        add_lead(wh, i)
    route_stage(wh, cfg, NOW)
    owners = [r[1] for r in leads(wh, "owner_id")]
    assert owners.count("a") == 1 and owners.count("c") == 2 and "b" not in owners  # caps and absence hold
    assert owners.count("q") == 3  # nobody left with room today: the queue holds them
    assert convert_stage(wh, ConvertSettings(criteria=()), now=NOW).skipped_not_user_owned == 3
    later = datetime(2026, 12, 1, 9)  # next day b is back and caps reset: held leads are handed out
    assert route_stage(wh, cfg, later) == 3
    assert "q" not in [r[1] for r in leads(wh, "owner_id")]
    assert wh.rows("SELECT rep_id, source FROM reps ORDER BY rep_id") == [("a", "config"), ("b", "config"), ("c", "csv")]


def test_a_reps_csv_naming_an_unknown_queue_or_a_queue_id_as_rep_is_refused_and_stores_nothing(wh: Warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,queues\nc,q\nd,sales\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"row 3: unknown queue 'sales'"):
        import_reps_stage(wh, reps, ROUTING, NOW)
    reps.write_text("rep_id,queues\nc,q\nq,\n", encoding="utf-8")  # 'q' is ROUTING's queue
    with pytest.raises(ConfigError, match=r"row 3: rep id 'q' is also a queue id"):
        import_reps_stage(wh, reps, ROUTING, NOW)
    assert wh.scalar("SELECT count(*) FROM reps") == 0 and wh.scalar("SELECT count(*) FROM queue_members") == 0


def test_sticky_account_routing(wh: Warehouse) -> None:
    wh.execute("INSERT INTO reps (rep_id, active, updated_at) VALUES ('owner_x', true, now()::TIMESTAMP)")
    wh.execute(
        "INSERT INTO accounts (account_id, name, company_key, domain, owner_id, created_at, updated_at) "
        "VALUES (1, 'Acme', 'acme', 'acme.com', 'owner_x', now()::TIMESTAMP, now()::TIMESTAMP)"
    )
    add_lead(wh, 1, company_domain="acme.com", company_key="acme corp")
    add_lead(wh, 2, company_domain="gmail.com", company_key="globex")
    add_lead(wh, 3, company_key="acme")
    build_golden(wh)
    cfg = ROUTING.model_copy(update={"reps": (*ROUTING.reps, Rep(id="owner_x"))})
    route_stage(wh, cfg, NOW)
    assert [r[1] for r in leads(wh, "owner_id")] == ["owner_x", "a", "owner_x"]


def _qualified_and_routed(wh: Warehouse) -> None:
    hot(wh, 1, first_name="Ann", email="ann@acme.com", website="acme.com", lead_source="Web")
    hot(wh, 2, cluster_id=1, first_name="Ann", email="ann@acme.com", lead_source="Trade Show")
    hot(wh, 3, first_name="Bob", email="bob@acme.com", company="ACME Corp")
    add_lead(wh, 4, first_name="Cy", company="Globex", company_key="globex")  # not an MQL
    build_golden(wh)
    qualify_stage(wh, QualifySettings(), NOW)
    route_stage(wh, ROUTING, NOW)


def test_conversion_creates_once_per_cluster_is_idempotent_and_links_duplicates(wh: Warehouse) -> None:
    _qualified_and_routed(wh)
    dry = convert_stage(wh, ConvertSettings(), dry_run=True, now=NOW)
    assert (dry.clusters_converted, dry.accounts_created, dry.contacts_created, dry.opportunities_created) == (2, 1, 2, 1)
    assert wh.scalar("SELECT count(*) FROM accounts") == 0 and wh.scalar("SELECT count(*) FROM leads WHERE is_converted") == 0
    result = convert_stage(wh, ConvertSettings(), now=NOW)
    assert (result.clusters_converted, result.leads_converted, result.accounts_created, result.contacts_created, result.opportunities_created) == (2, 3, 1, 2, 1)
    rows = leads(wh, "is_converted, converted_account_id, converted_contact_id, converted_opportunity_id, status, converted_at")
    assert rows[0][1:5] == (True, 1, 1, 1) and rows[1][1:5] == (True, 1, 1, 1)  # the cluster converts once
    assert rows[2][1:5] == (True, 1, 2, None)  # same account (domain), its own contact; one open opp per account
    assert rows[3][1] is False
    assert rows[0][5] == STATUS_CONVERTED and rows[0][6] == NOW
    acc = wh.rows("SELECT name, domain, owner_id, website FROM accounts")
    assert acc == [("Acme Inc.", "acme.com", "a", "acme.com")]
    opp = wh.rows("SELECT name, stage, close_date, owner_id, contact_id FROM opportunities")
    assert opp == [("Acme Inc. - Web", "Prospecting", date(2026, 12, 23), "a", 1)]
    assert wh.rows("SELECT owner_id FROM contacts ORDER BY contact_id") == [("a",), ("b",)]

    before = leads(wh, "*")
    again = convert_stage(wh, ConvertSettings(), now=datetime(2026, 11, 24))
    assert (again.clusters_converted, again.accounts_created, again.contacts_created, again.opportunities_created) == (0, 0, 0, 0)
    qualify_stage(wh, QualifySettings(), datetime(2026, 11, 24))
    route_stage(wh, ROUTING, datetime(2026, 11, 24))
    assert leads(wh, "*") == before  # later runs never modify converted leads

    hot(wh, 7, cluster_id=1, first_name="Ann", email="ann@acme.com")  # a new duplicate of a converted lead
    linked = convert_stage(wh, ConvertSettings(), now=NOW)
    assert (linked.leads_linked, linked.contacts_created, linked.opportunities_created) == (1, 0, 0)
    assert leads(wh, "is_converted, converted_account_id, converted_contact_id, converted_opportunity_id")[-1][1:] == (True, 1, 1, None)


def test_a_conversion_that_fails_midway_leaves_nothing_behind(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    _qualified_and_routed(wh)
    hot(wh, 6, first_name="Di", email="di@globex.com", company="Globex", company_key="globex", company_domain="globex.com")
    build_golden(wh)
    qualify_stage(wh, QualifySettings(), NOW)
    route_stage(wh, ROUTING, NOW)
    convert_stage(wh, ConvertSettings(criteria=(Criterion(field="first_name", op="eq", value="Ann"),)), now=NOW)  # cluster 1 only
    hot(wh, 5, cluster_id=1, first_name="Ann", email="ann@acme.com")  # a new duplicate, to be linked to cluster 1's contact
    tables = ("leads", "accounts", "contacts", "opportunities")
    before = {t: wh.rows(f"SELECT * FROM {t} ORDER BY 1") for t in tables}
    assert [len(before[t]) for t in tables] == [6, 1, 1, 1]

    # Fail after the last statement has run: duplicate linked, records inserted, leads marked.
    real_rows = wh.rows
    at_failure: list[tuple] = []

    def rows_then_fail(sql, params=None):  # type: ignore[no-untyped-def]
        result = real_rows(sql, params)
        if sql is conversion._MARK_SQL:
            at_failure.append(real_rows(
                "SELECT (SELECT count(*) FROM leads WHERE is_converted), (SELECT count(*) FROM accounts), "
                "(SELECT count(*) FROM contacts), (SELECT count(*) FROM opportunities)"
            )[0])
            raise RuntimeError("disk full")
        return result

    monkeypatch.setattr(wh, "rows", rows_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        convert_stage(wh, ConvertSettings(), now=datetime(2026, 11, 24))
    monkeypatch.undo()
    assert at_failure == [(5, 2, 3, 2)]  # leads 1, 2, 5 (linked), 3 and 6; Globex's account; two contacts; its opportunity
    assert {t: wh.rows(f"SELECT * FROM {t} ORDER BY 1") for t in tables} == before

    again = convert_stage(wh, ConvertSettings(), now=datetime(2026, 11, 24))  # nothing was left half-done
    assert (again.leads_linked, again.clusters_converted, again.accounts_created, again.contacts_created, again.opportunities_created) == (1, 2, 1, 2, 1)


def test_attaching_fills_only_empty_fields_and_lead_source_only_when_asked(wh: Warehouse) -> None:
    wh.execute(
        "INSERT INTO accounts (account_id, name, company_key, website, phone, owner_id, created_at, updated_at) "
        "VALUES (7, 'Acme Corp', 'acme', 'https://acme.example', NULL, 'old_owner', now()::TIMESTAMP, now()::TIMESTAMP)"
    )
    wh.execute(
        "INSERT INTO contacts (contact_id, account_id, first_name, last_name, email, title, lead_source, created_at, updated_at) "
        "VALUES (5, 7, 'Ann', 'Doe', 'ann@acme.com', NULL, 'Partner', now()::TIMESTAMP, now()::TIMESTAMP)"
    )
    wh.execute(
        "INSERT INTO opportunities (opportunity_id, account_id, name, stage, close_date, created_at) "
        "VALUES (3, 7, 'Acme - renewal', 'Negotiation', DATE '2026-12-01', now()::TIMESTAMP)"
    )
    hot(wh, 1, first_name="Ann", email="ann@acme.com", company_domain=None, website="https://other.example", phone="+14155550132", title="CTO")
    build_golden(wh)
    qualify_stage(wh, QualifySettings(), NOW)
    route_stage(wh, ROUTING, NOW)
    result = convert_stage(wh, ConvertSettings(overwrite_lead_source=True), now=NOW)
    assert (result.accounts_created, result.accounts_attached, result.contacts_attached, result.opportunities_created) == (0, 1, 1, 0)
    assert wh.rows("SELECT name, website, phone, owner_id FROM accounts") == [("Acme Corp", "https://acme.example", "+14155550132", "old_owner")]
    assert wh.rows("SELECT title, lead_source FROM contacts") == [("CTO", "Web")]
    assert leads(wh, "converted_account_id, converted_contact_id, converted_opportunity_id") == [(1, 7, 5, None)]


def test_planning_a_conversion_matches_accounts_once(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warehouse matches accounts to pick the contacts to read; the plan reuses the matches."""
    import transforms.accounts
    import transforms.conversion

    calls: list[int] = []
    real = transforms.accounts.match_accounts

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(args[0]))
        return real(*args, **kwargs)

    for module in (transforms.accounts, transforms.conversion, conversion):
        monkeypatch.setattr(module, "match_accounts", counting, raising=False)
    wh.execute("INSERT INTO accounts (account_id, name, company_key, created_at, updated_at) "
               "VALUES (7, 'Acme Corp', 'acme', now()::TIMESTAMP, now()::TIMESTAMP)")
    wh.execute("INSERT INTO contacts (contact_id, account_id, first_name, last_name, email, created_at, updated_at) "
               "VALUES (5, 7, 'Ann', 'Doe', 'ann@acme.com', now()::TIMESTAMP, now()::TIMESTAMP)")
    hot(wh, 1, first_name="Ann", email="ann@acme.com", company_domain=None)
    hot(wh, 2, first_name="Bob", email="bob@initech.com", company="Initech", company_key="initech", company_domain="initech.com")
    build_golden(wh)
    qualify_stage(wh, QualifySettings(), NOW)
    route_stage(wh, ROUTING, NOW)

    plan = conversion.plan_from_warehouse(wh, ConvertSettings(), NOW)
    assert calls == [2]
    assert plan.clusters.select("cluster_id", "account_id", "account_action", "contact_id", "contact_action").rows() == [
        (1, 7, "attach", 5, "attach"), (2, 8, "create", 6, "create")]


def test_an_opt_out_on_an_attaching_or_linked_lead_reaches_the_contact_and_is_never_cleared(wh: Warehouse) -> None:
    wh.execute(
        "INSERT INTO accounts (account_id, name, company_key, owner_id, created_at, updated_at) "
        "VALUES (7, 'Acme Corp', 'acme', 'a', now()::TIMESTAMP, now()::TIMESTAMP)"
    )
    wh.execute(
        "INSERT INTO contacts (contact_id, account_id, first_name, last_name, email, has_opted_out_of_email, do_not_call, created_at, updated_at) "
        "VALUES (5, 7, 'Ann', 'Doe', 'ann@acme.com', false, true, now()::TIMESTAMP, now()::TIMESTAMP)"
    )
    hot(wh, 1, first_name="Ann", email="ann@acme.com", has_opted_out_of_email=True, do_not_call=False)
    build_golden(wh)
    qualify_stage(wh, QualifySettings(), NOW)
    route_stage(wh, ROUTING, NOW)
    assert convert_stage(wh, ConvertSettings(), now=NOW).contacts_attached == 1
    # the lead's opt-out reaches the contact; its do_not_call = false does not clear the contact's
    assert wh.rows("SELECT has_opted_out_of_email, do_not_call FROM contacts") == [(True, True)]

    wh.execute("UPDATE contacts SET has_opted_out_of_email = false, do_not_call = NULL")
    hot(wh, 2, cluster_id=1, first_name="Ann", email="ann@acme.com", do_not_call=True)  # a new duplicate of the converted lead
    assert convert_stage(wh, ConvertSettings(), dry_run=True, now=NOW).leads_linked == 1
    assert wh.rows("SELECT has_opted_out_of_email, do_not_call FROM contacts") == [(False, None)]  # a dry run writes nothing
    assert convert_stage(wh, ConvertSettings(), now=NOW).leads_linked == 1
    assert wh.rows("SELECT has_opted_out_of_email, do_not_call FROM contacts") == [(False, True)]


def test_views_count_the_funnel_and_rep_load(wh: Warehouse) -> None:
    _qualified_and_routed(wh)
    convert_stage(wh, ConvertSettings(), now=NOW)
    funnel = wh.rows("SELECT lead_source, leads, people, mqls, converted FROM v_funnel ORDER BY lead_source")
    assert funnel == [("Trade Show", 1, 1, 1, 1), ("Web", 3, 3, 2, 2)]
    load = {r[0]: r[1:] for r in wh.rows("SELECT owner_id, open_leads, conversions, opportunities FROM v_rep_load")}
    assert load["a"] == (1, 1, 1) and load["b"] == (0, 1, 0)


def test_conversion_reads_criteria_fields_first_then_the_profile_of_the_chosen_clusters(wh: Warehouse) -> None:
    """Criteria on a golden field and an aggregate; a cluster without a golden row (read from its
    own lead); a stale golden row of a cluster with no lead; the plan gets every mapped field."""
    hot(wh, 1, first_name="Ann", email="ann@acme.com", industry="Software", city="Berlin")
    hot(wh, 2, cluster_id=1, first_name="Ann", email="ann@acme.com")
    hot(wh, 3, first_name="Bob", email="bob@initech.com", company="Initech", company_key="initech", company_domain="initech.com",
        industry="Retail", city="Paris")
    hot(wh, 4, first_name="Cy", email="cy@globex.com", company="Globex", company_key="globex", company_domain="globex.com",
        industry="Software", city="Rome")
    build_golden(wh)
    wh.execute("DELETE FROM lead_golden WHERE cluster_id = 4")  # no golden row yet: its own lead counts
    wh.execute("INSERT INTO lead_golden (cluster_id, lead_count, lead_ids, source_kinds, industry, updated_at) "
               "VALUES (99, 1, [], [], 'Software', now()::TIMESTAMP)")  # stale: no lead has cluster 99
    qualify_stage(wh, QualifySettings(), NOW)
    route_stage(wh, ROUTING, NOW)
    criteria = (Criterion(field="industry", op="eq", value="software"), Criterion(field="submissions", op="gte", value=1))
    result = convert_stage(wh, ConvertSettings(criteria=criteria), now=NOW)
    assert (result.clusters_converted, result.leads_converted, result.skipped_not_user_owned) == (2, 3, 0)
    assert wh.rows("SELECT first_name, mailing_city, email FROM contacts ORDER BY contact_id") == [
        ("Ann", "Berlin", "ann@acme.com"), ("Cy", "Rome", "cy@globex.com")]
    assert wh.rows("SELECT name, industry, billing_city FROM accounts ORDER BY account_id") == [
        ("Acme Inc.", "Software", "Berlin"), ("Globex", "Software", "Rome")]
    assert [r[1] for r in leads(wh, "is_converted")] == [True, True, False, True]
