"""Dedup settings refuse what a run could only get wrong: each mistake is named, none slips through."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from matching.configuration import (
    DEFAULT_FIELD_RULES, GOLDEN_GROUPS, DedupSettings, Survivorship, unknown_rule_levels, unread_fields,
)
from matching.golden import GROUPS


def refused(**settings: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        DedupSettings.model_validate(settings)
    return str(caught.value)


def test_the_defaults_name_only_known_levels_and_fields() -> None:
    assert unknown_rule_levels(DedupSettings()) == []
    assert unread_fields(DedupSettings()) == []
    assert GROUPS == GOLDEN_GROUPS


def test_a_link_rule_with_an_unknown_level_is_refused_naming_it() -> None:
    message = refused(must_link=[{"name": "same_mail", "when": {"email": ["exactt"]}}])
    assert "rule 'same_mail': email has no level exactt" in message and "variant" in message


def test_a_link_rule_must_say_when_it_fires() -> None:
    # an empty rule would decide every pair: a cannot-link of everything, or a must-link of everything
    assert "at least 1 item" in refused(cannot_link=[{"name": "everything", "when": {}}])
    assert "no level listed for email" in refused(must_link=[{"name": "r", "when": {"email": []}}])


def test_no_comparison_or_no_blocking_rule_is_refused() -> None:
    assert "comparisons is empty" in refused(comparisons=[], must_link=[], cannot_link=[])
    assert "set enabled = false" in refused(blocking_rules=[])
    # with matching turned off, an empty list is no mistake
    assert DedupSettings.model_validate({"enabled": False, "blocking_rules": [], "comparisons": [], "must_link": [], "cannot_link": []})


def test_fields_a_run_does_not_read_are_named() -> None:
    settings = DedupSettings.model_validate({
        "blocking_rules": [{"name": "email", "parts": ["emial:canonical_email"]}, {"name": "phone", "parts": ["any_phone", "name_set"]}],
        "comparisons": [{"name": "email", "kind": "email", "field": "emial"}, {"name": "city", "kind": "string", "field": "city"}],
        "must_link": [], "cannot_link": [],
    })
    problems = unread_fields(settings)
    assert problems[:2] == ["blocking_rules[0] (email): unknown field in 'emial:canonical_email'",
                            "comparisons[0] (email): unknown field 'emial'"]
    assert "a dedup run reads first_name" in problems[2]


def test_survivorship_fields_add_to_the_built_in_ones() -> None:
    rules = Survivorship.model_validate({"fields": {"title": "oldest", "email": "source_priority"}})
    assert rules.fields == {**DEFAULT_FIELD_RULES, "title": "oldest", "email": "source_priority"}
    assert Survivorship().fields == DEFAULT_FIELD_RULES


@pytest.mark.parametrize(("fields", "expected"), [
    ({"emial": "oldest"}, "'emial' is no golden-record field"),
    ({"city": "oldest"}, "'city' is chosen together with 'street'"),
    ({"email_domain": "oldest"}, "set the rule on 'email'"),
    ({"company_key": "oldest"}, "set the rule on 'company'"),
])
def test_survivorship_fields_must_name_a_group(fields: dict[str, str], expected: str) -> None:
    assert expected in refused(survivorship={"fields": fields})


@pytest.mark.parametrize(("kinds", "expected"), [
    (["webinar", "trade_show"], "unknown source kind(s) 'webinar'"),
    (["form", "form", "bulk"], "'form' listed twice"),
])
def test_source_priority_names_each_kind_once(kinds: list[str], expected: str) -> None:
    assert expected in refused(survivorship={"source_priority": kinds})
