"""Blocking keys and candidate pairs."""

from __future__ import annotations

import polars as pl

from matching.blocking import (
    _block_sizes, blocking_keys, blocks_agree, candidate_pairs, canonical_email, key_part, plan_blocks, rule_names, rules_mask, shared_blocks,
)
from matching.configuration import BlockingRule


def leads(rows: list[dict]) -> pl.DataFrame:
    cols = ("lead_id", "first_name", "last_name", "email", "phone", "mobile_phone", "company_key", "postal_code")
    return pl.DataFrame([{c: r.get(c) for c in cols} for r in rows], schema={c: pl.Int64 if c == "lead_id" else pl.String for c in cols})


def test_canonical_email_drops_tags_and_gmail_dots() -> None:
    emails = pl.Series(["John.Smith+news@GoogleMail.com", "j.smith+x@acme.com", None])
    out = pl.select(canonical_email(pl.lit(emails))).to_series().to_list()
    assert out == ["johnsmith@gmail.com", "j.smith@acme.com", None]


def test_mailbox_letters_ignore_digits_and_separators() -> None:
    emails = pl.DataFrame({"email": ["sabine.bauer64@gmx.de", "Sabine_Bauer@granitepath.com", "jo1@x.com", None]})
    out = emails.select(key_part("email", "local_letters")).to_series().to_list()
    assert out == ["sabinebauer", "sabinebauer", None, None]  # fewer than 4 letters: no key


def test_keys_skip_missing_parts_and_expand_phones() -> None:
    frame = leads([
        {"lead_id": 1, "last_name": "Smith", "postal_code": "10115", "phone": "+4930", "mobile_phone": "+49170"},
        {"lead_id": 2, "last_name": "Smith", "postal_code": None, "phone": None},
    ])
    rules = [BlockingRule(name="name_postcode", parts=["last_name:lower", "postal_code"]), BlockingRule(name="phone", parts=["any_phone"])]
    keys = blocking_keys(frame, rules)
    assert keys.filter(pl.col("lead_id") == 2).is_empty()
    assert sorted(keys.filter(pl.col("rule") == "phone")["key"].to_list()) == ["+49170", "+4930"]
    assert keys.filter(pl.col("rule") == "name_postcode")["key"].to_list() == ["smith|10115"]


def test_metaphone_key_groups_spelling_variants() -> None:
    frame = leads([{"lead_id": 1, "last_name": "Smith"}, {"lead_id": 2, "last_name": "Smyth"}, {"lead_id": 3, "last_name": "Jones"}])
    keys = blocking_keys(frame, [BlockingRule(name="sound", parts=["last_name:metaphone"])])
    by_lead = dict(zip(keys["lead_id"], keys["key"], strict=True))
    assert by_lead[1] == by_lead[2] != by_lead[3]


def test_pairs_once_with_all_rules_and_new_only() -> None:
    rules = [BlockingRule(name="email", parts=["email"]), BlockingRule(name="phone", parts=["phone"])]
    new = leads([{"lead_id": 3, "email": "a@x.com", "phone": "+1"}, {"lead_id": 4, "email": "b@x.com", "phone": "+2"}])
    old = leads([{"lead_id": 1, "email": "a@x.com", "phone": "+1"}, {"lead_id": 2, "email": "z@x.com", "phone": "+2"},
                 {"lead_id": 9, "email": "z@x.com"}])
    pairs, report = candidate_pairs(blocking_keys(new, rules), blocking_keys(old, rules), rules, max_block_size=10)
    pairs = pairs.sort("lead_id_l", "lead_id_r")
    # 1-3 by both rules, 2-4 by phone; the old pair 2-9 (email z@) is not compared again
    assert pairs.select("lead_id_l", "lead_id_r").rows() == [(1, 3), (2, 4)]
    names = pairs.select(rule_names(pl.col("rules_mask"), rules)).to_series().to_list()
    assert names == [["email", "phone"], ["phone"]]
    assert report.pairs_per_rule == {"email": 1, "phone": 2}


def test_oversized_blocks_are_skipped_and_reported() -> None:
    rules = [BlockingRule(name="email", parts=["email"]), BlockingRule(name="name", parts=["last_name"])]
    frame = leads([{"lead_id": i, "email": "info@acme.com", "last_name": f"n{i % 2}"} for i in range(1, 8)])
    pairs, report = candidate_pairs(blocking_keys(frame, rules), None, rules, max_block_size=5)
    assert report.oversized.rows() == [("email", "info@acme.com", 7)]
    # the other rule still pairs leads: n0 has 3 leads, n1 has 4 -> 3 + 6 pairs
    assert pairs.height == 9


def test_a_rule_can_set_a_smaller_block_cap_of_its_own() -> None:
    rules = [BlockingRule(name="email", parts=["email"]), BlockingRule(name="name", parts=["last_name"], max_block_size=3)]
    frame = leads([{"lead_id": i, "email": f"e{i % 3}@acme.com", "last_name": f"n{i % 2}"} for i in range(1, 8)])
    pairs, report = candidate_pairs(blocking_keys(frame, rules), None, rules, max_block_size=5)
    # n0 (3 leads) stays under the rule's own cap of 3; n1 (4 leads) is over it though under the global 5
    assert report.oversized.rows() == [("name", "n1", 4)]
    assert report.pairs_per_rule["name"] == 3
    assert report.pairs_per_rule["email"] == 1 + 3 + 1  # e0: 2 leads, e1: 3, e2: 2, all under the global cap


def test_a_lead_stored_and_passed_as_new_counts_once() -> None:
    rules = [BlockingRule(name="name", parts=["last_name"])]
    old = blocking_keys(leads([{"lead_id": 1, "last_name": "Roe"}]), rules)
    new = blocking_keys(leads([{"lead_id": 1, "last_name": "Roe"}, {"lead_id": 2, "last_name": "Roe"}]), rules)
    pairs, report = candidate_pairs(new, old, rules, max_block_size=2)
    assert pairs.select("lead_id_l", "lead_id_r").rows() == [(1, 2)] and report.oversized.is_empty()


def test_only_existing_leads_in_comparable_blocks_are_read() -> None:
    rules = [BlockingRule(name="phone", parts=["phone"]), BlockingRule(name="name", parts=["last_name"])]
    # a switchboard shared by 6 stored leads; 7 and 8 share a name with the new lead 10; 9 shares nothing
    old = leads([{"lead_id": i, "phone": "+1000", "last_name": f"x{i}"} for i in range(1, 7)]
                + [{"lead_id": 7, "last_name": "Roe"}, {"lead_id": 8, "last_name": "Roe", "phone": "+1000"},
                   {"lead_id": 9, "last_name": "Doe"}])
    new = leads([{"lead_id": 10, "phone": "+1000", "last_name": "Roe"}, {"lead_id": 6, "phone": "+1000", "last_name": "x6"}])
    new_keys, old_keys = blocking_keys(new, rules), blocking_keys(old, rules)
    wanted = plan_blocks(new_keys, old_keys, rules, max_block_size=5).stored_leads()
    # 1-5 only share the oversized phone block; 6 is stored and new (read as new); 8 shares the name
    assert wanted.to_list() == [7, 8]
    pairs, _ = candidate_pairs(new_keys, old_keys, rules, max_block_size=5)
    paired = set(pairs["lead_id_l"]) | set(pairs["lead_id_r"])
    assert paired - {6, 10} == set(wanted)  # every existing lead a pair needs, and no other
    assert plan_blocks(new_keys, old_keys.head(0), rules, max_block_size=5).stored_leads().is_empty()


def test_many_distinct_keys_stay_distinct_blocks() -> None:
    # 3,000 keys held by two leads each: exactly 3,000 pairs, none oversized (block ids are hashes)
    rules = [BlockingRule(name="email", parts=["email"]), BlockingRule(name="name", parts=["last_name"], max_block_size=2)]
    frame = leads([{"lead_id": i, "email": f"e{i // 2}@acme.com", "last_name": f"n{i // 2}"} for i in range(6000)])
    pairs, report = candidate_pairs(blocking_keys(frame, rules), None, rules, max_block_size=2)
    assert pairs.height == 3000 and report.oversized.height == 0
    assert report.pairs_per_rule == {"email": 3000, "name": 3000}


def test_stored_block_ids_are_checked_against_the_rules() -> None:
    rules = [BlockingRule(name="email", parts=["email"]), BlockingRule(name="name", parts=["last_name"])]
    keys = blocking_keys(leads([{"lead_id": 1, "email": "a@x.com", "last_name": "Roe"}]), rules)
    assert blocks_agree(keys, rules)
    assert not blocks_agree(keys, list(reversed(rules)))  # another order gives other ids
    assert not blocks_agree(keys.with_columns(pl.lit(None, pl.UInt64).alias("block")), rules)  # stored before ids existed
    assert not blocks_agree(keys, rules[:1])  # a rule that no longer exists
    assert blocks_agree(keys.head(0), rules)


def test_no_rules_give_no_keys_with_the_stored_columns() -> None:
    keys = blocking_keys(leads([{"lead_id": 1, "email": "a@x.com"}]), [])
    assert keys.is_empty() and keys.columns == ["lead_id", "rule", "key", "block"]


def test_shared_blocks_name_the_keys_two_leads_share_and_whether_a_run_compares_them() -> None:
    rules = [BlockingRule(name="email", parts=["email"]), BlockingRule(name="phone", parts=["phone"], max_block_size=3),
             BlockingRule(name="name", parts=["last_name"])]
    frame = leads([{"lead_id": 1, "email": "a@x.com", "phone": "+1555", "last_name": "Lee"},
                   {"lead_id": 2, "email": "a@x.com", "phone": "+1555", "last_name": "Kim"}])
    keys = blocking_keys(frame, rules)
    phone = keys.filter(pl.col("rule") == "phone")["block"][0]
    # two other leads hold the phone: four leads, over the phone rule's own cap of 3
    shared = shared_blocks(keys, 2, pl.DataFrame({"block": [phone], "others": [2]}), rules, max_block_size=30)
    assert shared.select("rule", "key", "size", "cap", "within_cap").rows() == [
        ("email", "a@x.com", 2, 30, True), ("phone", "+1555", 4, 3, False),
    ]
    # one other lead: within the cap; a pair made by both rules carries both bits
    shared = shared_blocks(keys, 2, pl.DataFrame({"block": [phone], "others": [1]}), rules, max_block_size=30)
    assert shared["within_cap"].to_list() == [True, True]
    assert rules_mask(shared["rule"].to_list(), rules) == 0b011 and rules_mask([], rules) == 0
    # a lead holding a block twice (phone and mobile end alike) counts twice, as in a run's block sizes
    last7 = [BlockingRule(name="last7", parts=["any_phone:last7"])]
    twice = leads([{"lead_id": 1, "phone": "+15551234567", "mobile_phone": "+15561234567"}, {"lead_id": 2, "phone": "+15571234567"}])
    twice_keys = blocking_keys(twice, last7)
    shared = shared_blocks(twice_keys, 2, pl.DataFrame(schema={"block": pl.UInt64, "others": pl.Int64}), last7, max_block_size=30)
    assert shared.select("key", "size").rows() == [("1234567", 3)]
    _, sizes = _block_sizes(twice_keys, None, last7, 30)
    assert sizes["size"].to_list() == [3]
    # leads that share no key share no block
    apart = leads([{"lead_id": 1, "email": "a@x.com", "last_name": "Lee"}, {"lead_id": 2, "email": "b@y.com", "last_name": "Kim"}])
    nobody = pl.DataFrame(schema={"block": pl.UInt64, "others": pl.Int64})
    assert shared_blocks(blocking_keys(apart, rules), 2, nobody, rules, 30).is_empty()
    # nor does a lead without any key share the other's keys
    keyless = leads([{"lead_id": 1, "email": "a@x.com", "last_name": "Lee"}, {"lead_id": 2}])
    assert blocking_keys(keyless, rules)["lead_id"].unique().to_list() == [1]
    assert shared_blocks(blocking_keys(keyless, rules), 2, nobody, rules, 30).is_empty()
    # sizes not known (stored keys of other rules): the keys are named, their sizes left open
    unknown = shared_blocks(keys, 2, None, rules, max_block_size=30)
    assert unknown.select("rule", "size", "within_cap").rows() == [("email", None, None), ("phone", None, None)]
