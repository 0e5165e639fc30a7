from __future__ import annotations

from typing import Any


from transforms.configuration import ConvertSettings, Rep, RoutingSettings
from transforms.routing import assign_round_robin
from transforms.scoring import STATUS_CONVERTED, STATUS_MQL, STATUS_OPEN
from warehouse.clusters import apply_clusters, dedup_candidates
from warehouse.connection import Warehouse
from warehouse.conversion import convert_leads
from warehouse.lifecycle import rotation_position, sync_reps, unowned_lead_ids, write_assignments

from matching.configuration import DedupSettings
from matching.dedupe import DEDUP_COLUMNS, assign_clusters


def add_lead(wh: Warehouse, lead_id: int, **values: Any) -> None:
    row = {
        "lead_id": lead_id, "batch_id": 1, "source_file": "f.csv", "source_kind": "form", "source_row": lead_id,
        "last_name": "Doe", "company": "Acme Inc.", "company_key": "acme", "status": STATUS_MQL,
        "owner_id": "rep_a", "lead_source": "Web", "created_at": "2026-11-01", "updated_at": "2026-11-01",
    }
    row.update(values)
    cols = ", ".join(row)
    wh.execute(f"INSERT INTO leads ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


def converted(wh: Warehouse) -> list[tuple]:
    return wh.rows(
        "SELECT lead_id, is_converted, converted_account_id, converted_contact_id, converted_opportunity_id, status "
        "FROM leads ORDER BY lead_id"
    )


def test_conversion_creates_and_attaches(wh: Warehouse) -> None:
    add_lead(wh, 1, first_name="Ann", email="ann@acme.com", cluster_id=1)
    add_lead(wh, 2, first_name="Ann", email="ann@acme.com", cluster_id=1)  # duplicate: converts once
    add_lead(wh, 3, first_name="Bob", email="bob@acme.com", company="ACME", cluster_id=3)  # same account
    add_lead(wh, 4, first_name="Cy", email="cy@globex.com", company="Globex", company_key="globex", cluster_id=4, status=STATUS_OPEN)
    add_lead(wh, 5, first_name="Di", email="di@initech.com", company="Initech", company_key="initech", cluster_id=5, owner_id=None)
    result = convert_leads(wh, ConvertSettings())
    assert (result.leads_converted, result.accounts_created, result.contacts_created, result.opportunities_created) == (2, 1, 2, 2)
    rows = converted(wh)
    assert rows[0][1:4] == (True, 1, 1) and rows[1][1:4] == (True, 1, 1)
    assert rows[2][1:4] == (True, 1, 2)
    assert rows[3][1] is False and rows[4][1] is False  # not MQL / no owner
    assert rows[0][5] == STATUS_CONVERTED
    opp = wh.rows("SELECT name, stage, close_date - created_at::DATE, owner_id FROM opportunities ORDER BY opportunity_id")
    assert opp[0] == ("Acme Inc. - Web", "Prospecting", 30, "rep_a")

    # Converting again creates nothing new and changes no converted lead.
    before = converted(wh)
    again = convert_leads(wh, ConvertSettings())
    assert (again.leads_converted, again.accounts_created, again.contacts_created, again.opportunities_created) == (0, 0, 0, 0)
    assert converted(wh) == before

    # A later duplicate of a converted lead links to the existing contact.
    add_lead(wh, 6, first_name="Ann", email="ann@acme.com", cluster_id=1, status=STATUS_MQL)
    linked = convert_leads(wh, ConvertSettings())
    assert linked.leads_linked == 1 and linked.contacts_created == 0 and linked.opportunities_created == 0
    assert converted(wh)[5][1:5] == (True, 1, 1, None)


def test_existing_account_gets_only_empty_fields_filled(wh: Warehouse) -> None:
    wh.execute(
        "INSERT INTO accounts (account_id, name, company_key, website, phone, created_at, updated_at) "
        "VALUES (7, 'Acme Corp', 'acme', 'https://acme.example', NULL, now()::TIMESTAMP, now()::TIMESTAMP)"
    )
    add_lead(wh, 1, email="ann@acme.com", website="https://other.example", phone="+14155550132", cluster_id=1)
    result = convert_leads(wh, ConvertSettings(create_opportunity=False))
    assert result.accounts_created == 0 and result.accounts_attached == 1 and result.opportunities_created == 0
    assert wh.rows("SELECT name, website, phone FROM accounts") == [("Acme Corp", "https://acme.example", "+14155550132")]
    assert converted(wh)[0][1:5] == (True, 7, 1, None)


def test_dry_run_changes_nothing(wh: Warehouse) -> None:
    add_lead(wh, 1, email="ann@acme.com", cluster_id=1)
    result = convert_leads(wh, ConvertSettings(), dry_run=True)
    assert result.leads_converted == 1 and result.accounts_created == 1
    assert wh.scalar("SELECT count(*) FROM accounts") == 0
    assert wh.scalar("SELECT count(*) FROM leads WHERE is_converted") == 0


def test_routing_state_continues_between_runs(wh: Warehouse) -> None:
    settings = RoutingSettings(reps=(Rep(id="a"), Rep(id="b"), Rep(id="c")))
    sync_reps(wh, settings.reps)
    for lead_id in range(1, 3):
        add_lead(wh, lead_id, owner_id=None)
    first = assign_round_robin(unowned_lead_ids(wh), settings, rotation_position(wh, "default"))
    write_assignments(wh, first.assignments, "default", first.next_position)
    for lead_id in range(3, 6):
        add_lead(wh, lead_id, owner_id=None)
    second = assign_round_robin(unowned_lead_ids(wh), settings, rotation_position(wh, "default"))
    write_assignments(wh, second.assignments, "default", second.next_position)
    owners = [r[0] for r in wh.rows("SELECT owner_id FROM leads ORDER BY lead_id")]
    assert owners == ["a", "b", "c", "a", "b"]
    assert wh.scalar("SELECT count(*) FROM assignments") == 5
    assert wh.rows("SELECT next_position, assigned_total FROM routing_state") == [(2, 5)]
    sync_reps(wh, (Rep(id="a"),))
    assert wh.rows("SELECT rep_id, active FROM reps ORDER BY rep_id") == [("a", True), ("b", False), ("c", False)]


def test_dedup_round_trip_through_the_warehouse(wh: Warehouse) -> None:
    add_lead(wh, 1, email="ann@acme.com", cluster_id=1)
    add_lead(wh, 2, email="bob@acme.com", cluster_id=2)
    add_lead(wh, 3, email="zed@acme.com", cluster_id=3)  # unrelated: must not be fetched
    add_lead(wh, 10, email="ann@acme.com", first_name="X", phone="+1", cluster_id=None)
    add_lead(wh, 11, email="bob@acme.com", first_name="X", phone="+1", cluster_id=None)
    candidates = dedup_candidates(wh, DEDUP_COLUMNS)
    assert sorted(candidates["lead_id"].to_list()) == [1, 2, 10, 11]
    result = assign_clusters(candidates, DedupSettings())
    apply_clusters(wh, result.lead_clusters, result.cluster_merges)
    assert wh.rows("SELECT lead_id, cluster_id FROM leads ORDER BY lead_id") == [(1, 1), (2, 1), (3, 3), (10, 1), (11, 1)]
