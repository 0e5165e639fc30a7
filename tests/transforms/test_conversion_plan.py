from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transforms.accounts import match_accounts
from transforms.convert_config import AmountRule, ConvertSettings
from transforms.conversion import plan_conversion, select_eligible
from transforms.errors import ConfigError
from transforms.reps_csv import parse_reps_csv

GOLDEN = ("salutation", "first_name", "last_name", "title", "company", "company_key", "email", "phone", "mobile_phone",
          "website", "company_domain", "street", "city", "state", "postal_code", "country", "industry",
          "annual_revenue", "number_of_employees", "lead_source", "has_opted_out_of_email", "do_not_call")


def clusters(rows: list[dict]) -> pl.DataFrame:
    full = [{**{c: None for c in GOLDEN}, "last_name": "Doe", "status": "MQL", "owner_id": "rep_a", "lead_source": "Web", **r} for r in rows]
    return pl.DataFrame(full, schema_overrides={c: pl.String for c in GOLDEN if c not in ("has_opted_out_of_email", "do_not_call")})


def test_account_matching_by_domain_never_freemail_then_key_then_fuzzy() -> None:
    c = pl.DataFrame({
        "cluster_id": [1, 2, 3, 4, 5],
        "company_domain": ["acme.com", "gmail.com", None, None, None],
        "company_key": ["other", "acme", "globex corporation", "[not provided]", "unknown"],
        "company": ["X", "Acme", "Globex", "[not provided]", "U"],
    })
    a = pl.DataFrame({"account_id": [7, 8, 9], "domain": ["acme.com", "gmail.com", None], "company_key": ["acme", "x", "globex corporaton"]})
    out = match_accounts(c, a, 90).rows()
    assert out == [(1, 7, "domain"), (2, 7, "company_key"), (3, 9, "fuzzy"), (4, None, None), (5, None, None)]
    assert match_accounts(c, a, None).rows()[2] == (3, None, None)


def plan_inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, ConvertSettings]:
    """Four clusters (two of a new company, two of an existing account), that account, its contacts."""
    settings = ConvertSettings(
        amount_rules=(AmountRule(field="number_of_employees", op="gte", value=1000, amount=50000),), default_amount=5000
    )
    eligible = clusters([
        {"cluster_id": 1, "company": "Acme Inc.", "company_key": "acme", "company_domain": "acme.com", "email": "ann@acme.com", "first_name": "Ann"},
        {"cluster_id": 2, "company": "ACME", "company_key": "acme", "email": "bob@acme.com", "first_name": "Bob", "number_of_employees": "2,000"},
        {"cluster_id": 3, "company": "Initech", "company_key": "initech", "email": "OLD@initech.com", "first_name": "Cy", "lead_source": None},
        {"cluster_id": 4, "company": "Initech", "company_key": "initech", "email": None, "first_name": "Di", "last_name": "Ray"},
    ])
    accounts = pl.DataFrame({"account_id": [20], "name": ["Initech LLC"], "domain": [None], "company_key": ["initech"]}, schema_overrides={"domain": pl.String})
    contacts = pl.DataFrame({"contact_id": [30, 31], "account_id": [20, 20], "email": ["old@initech.com", None],
                             "first_name": ["Cy", "di"], "last_name": ["Doe", "RAY"]})
    return eligible, accounts, contacts, settings


def test_plan_groups_new_accounts_attaches_contacts_and_limits_opportunities() -> None:
    eligible, accounts, contacts, settings = plan_inputs()
    plan = plan_conversion(eligible, accounts, contacts, open_accounts=[20], next_ids=(21, 32, 40), settings=settings, as_of=date(2026, 11, 23))
    rows = plan.clusters.select("cluster_id", "account_id", "account_action", "contact_id", "contact_action", "contact_match", "opportunity_id", "amount").rows()
    assert rows == [
        (1, 21, "create", 32, "create", None, 40, 5000.0),  # domain and key: one new account for 1 and 2
        (2, 21, "create", 33, "create", None, None, None),  # unless_open: one opportunity per new account per run
        (3, 20, "attach", 30, "attach", "email", None, None),  # account 20 has an open opportunity
        (4, 20, "attach", 31, "attach", "name", None, None),
    ]
    assert plan.new_accounts.select("account_id", "name", "domain", "company_key", "owner_id").rows() == [(21, "Acme Inc.", "acme.com", "acme", "rep_a")]
    opp = plan.new_opportunities.row(0, named=True)
    assert (opp["name"], opp["stage"], opp["close_date"], opp["contact_id"]) == ("Acme Inc. - Web", "Prospecting", date(2026, 12, 23), 32)
    always = plan_conversion(eligible, accounts, contacts, [20], (21, 32, 40), settings.model_copy(update={"create_opportunity": "always"}), date(2026, 11, 23))
    assert always.new_opportunities["amount"].to_list() == [5000.0, 50000.0, 5000.0, 5000.0]
    assert always.new_opportunities["name"].to_list()[2] == "Initech LLC - Other"


def test_a_plan_with_precomputed_account_matches_is_the_plan_without() -> None:
    eligible, accounts, contacts, settings = plan_inputs()
    args = (eligible, accounts, contacts, [20], (21, 32, 40), settings, date(2026, 11, 23))
    matches = match_accounts(eligible, accounts, settings.fuzzy_account_threshold)
    without, given = plan_conversion(*args), plan_conversion(*args, account_matches=matches)
    for name in ("clusters", "new_accounts", "account_fills", "new_contacts", "contact_fills", "new_opportunities"):
        assert_frame_equal(getattr(given, name), getattr(without, name))
    assert given.clusters["account_action"].to_list() == ["create", "create", "attach", "attach"]

    # The matches given are the ones used (nothing is matched again): cluster 1 attached by hand.
    by_hand = matches.with_columns(
        pl.when(pl.col("cluster_id") == 1).then(pl.lit(20, pl.Int64)).otherwise(pl.col("account_id")).alias("account_id"),
        pl.when(pl.col("cluster_id") == 1).then(pl.lit("domain")).otherwise(pl.col("account_match")).alias("account_match"),
    )
    assert plan_conversion(*args, account_matches=by_hand).clusters["account_action"].to_list() == ["attach", "create", "attach", "attach"]


def test_only_user_owned_clusters_that_pass_the_criteria_are_eligible() -> None:
    frame = clusters([
        {"cluster_id": 1}, {"cluster_id": 2, "owner_id": "inbound"}, {"cluster_id": 3, "owner_id": None},
        {"cluster_id": 4, "status": "Open - Not Contacted"},
    ])
    eligible, skipped = select_eligible(frame, ["rep_a"], ConvertSettings())
    assert eligible["cluster_id"].to_list() == [1] and skipped == 2


def test_reps_csv(tmp_path: Path) -> None:
    f = tmp_path / "reps.csv"
    f.write_text(
        "Rep_ID,Name,active,weight,daily_cap,queues,out_of_office\n"
        "rep_ana,Ana,yes,2,40,inbound;emea,2026-12-20..2027-01-02; 2027-02-01\n"
        "rep_ben,Ben,no,,,inbound,\n",
        encoding="utf-8",
    )
    parsed = parse_reps_csv(f, {"inbound", "emea"})
    ana, ben = parsed.reps
    assert (ana.weight, ana.daily_cap, ana.active, len(ana.out_of_office)) == (2, 40, True, 2)
    assert ana.away_on(date(2027, 1, 2)) and ana.away_on(date(2027, 2, 1)) and not ana.away_on(date(2027, 1, 3))
    assert (ben.weight, ben.daily_cap, ben.active) == (1, None, False)
    assert parsed.memberships == (("inbound", "rep_ana"), ("emea", "rep_ana"), ("inbound", "rep_ben"))
    f.write_text("rep_id,weight\nrep_ana,0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="row 2: weight"):
        parse_reps_csv(f, set())
    f.write_text("rep_id,queues\nrep_ana,sales\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown queue 'sales'"):
        parse_reps_csv(f, {"inbound"})
    # a check of the whole rep (no field to name) reads as its message alone
    f.write_text("rep_id,out_of_office\nrep_ana,2026-12-26..2026-12-24\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^row 2: end 2026-12-24 is before start 2026-12-26$|reps.csv row 2: end 2026-12-24 is before start 2026-12-26$"):
        parse_reps_csv(f, set())
    # a blank line and a row of empty cells (a spreadsheet's) are no reps; rows keep their numbers
    f.write_text("rep_id,name,active\nrep_ana,Ana,true\n\n , ,\nrep_ben,Ben,maybe\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="row 5: active must be true/false, not 'maybe'"):
        parse_reps_csv(f, set())
    f.write_text("rep_id,name,active\nrep_ana,Ana,true\n\n , ,\nrep_ben,Ben,false\n", encoding="utf-8")
    assert [rep.id for rep in parse_reps_csv(f, set()).reps] == ["rep_ana", "rep_ben"]


def test_a_reps_list_saved_by_excel_reads_alike(tmp_path: Path) -> None:
    # cp1252 (a name with an accent), ';' between fields and '|' between queues, Windows line ends
    f = tmp_path / "reps.csv"
    f.write_bytes("rep_id;Name;queues\r\nrep_zoe;Zoë Müller;inbound|emea\r\nrep_ben;Ben;inbound\r\n".encode("cp1252"))
    parsed = parse_reps_csv(f, {"inbound", "emea"})
    assert [(r.id, r.name) for r in parsed.reps] == [("rep_zoe", "Zoë Müller"), ("rep_ben", "Ben")]
    assert parsed.memberships == (("inbound", "rep_zoe"), ("emea", "rep_zoe"), ("inbound", "rep_ben"))
    f.write_text("rep_id,name\nrep_ana,Ana,extra\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="row 2: too many fields"):
        parse_reps_csv(f, set())


def test_reps_csv_refuses_a_rep_id_that_is_a_queue_id(tmp_path: Path) -> None:
    # An assignee names one thing: a CSV rep may not take the id of a configured queue.
    f = tmp_path / "reps.csv"
    f.write_text("rep_id,queues\nrep_ana,inbound\nemea,inbound\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"row 3: rep id 'emea' is also a queue id") as raised:
        parse_reps_csv(f, {"inbound", "emea"})
    assert raised.value.key == "rep_id" and raised.value.hint
    assert [r.id for r in parse_reps_csv(f, {"inbound"}).reps] == ["rep_ana", "emea"]  # no such queue: a rep like any other
