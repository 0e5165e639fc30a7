"""Comparison levels, one field at a time."""

from __future__ import annotations

import time

import polars as pl
import pytest

from benchmarks.matching_data import generated_leads
from matching.blocking import blocking_keys, candidate_pairs
from matching import comparisons
from matching.comparisons import LEVELS, compare_pairs, gamma_column, term_frequencies, with_lower_columns
from matching.configuration import Comparison, DedupSettings, default_comparisons
from matching.engine import MATCH_COLUMNS

COLUMNS = ("lead_id", "first_name", "last_name", "email", "phone", "mobile_phone", "company_key", "company_domain",
           "street", "city", "postal_code", "title")


def level(name: str, left: dict, right: dict, comparisons: list[Comparison] | None = None) -> str:
    comparisons = comparisons or default_comparisons()
    rows = [{c: r.get(c) for c in COLUMNS} | {"lead_id": i} for i, r in ((1, left), (2, right))]
    records = pl.DataFrame(rows, schema={c: pl.Int64 if c == "lead_id" else pl.String for c in COLUMNS})
    out = compare_pairs(pl.DataFrame({"lead_id_l": [1], "lead_id_r": [2]}), records, comparisons)
    kind = next(c.kind for c in comparisons if c.name == name)
    value = out[gamma_column(name)][0]
    return "missing" if value is None else LEVELS[kind][value]


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("Robert", "robert", "exact"),
    ("Bob", "Robert", "nickname"),
    ("Bill", "William", "nickname"),
    ("Max", "Maximilian", "nickname"),
    ("Jonathan", "Jonathon", "nickname"),  # listed as variants in the nicknames data
    ("Kristine", "Kristina", "close"),
    ("J.", "John", "initial"),
    ("Stefan", "Stephan", "partial"),
    ("Anna", "Peter", "different"),
    (None, "Peter", "missing"),
])
def test_first_name_levels(a: str | None, b: str, expected: str) -> None:
    assert level("first_name", {"first_name": a, "last_name": "Smith"}, {"first_name": b, "last_name": "Smith"}) == expected


def names_pair_levels(a: str, b: str, crowd: dict[str, int], field: str = "first_name", **options: object) -> str:
    """The level of (a, b) when other leads hold the names ``crowd`` times each."""
    name = field
    other = "last_name" if field == "first_name" else "first_name"
    rows = [{field: a, other: "Smith" if field == "first_name" else "Anna"},
            {field: b, other: "Smith" if field == "first_name" else "Anna"}]
    for value, times in crowd.items():
        rows += [{field: value, other: "Other"}] * times
    records = pl.DataFrame(
        [{c: r.get(c) for c in COLUMNS} | {"lead_id": i} for i, r in enumerate(rows, start=1)],
        schema={c: pl.Int64 if c == "lead_id" else pl.String for c in COLUMNS},
    )
    comparisons = [c.model_copy(update=options) if c.name == name else c for c in default_comparisons()]
    out = compare_pairs(pl.DataFrame({"lead_id_l": [1], "lead_id_r": [2]}), records, comparisons)
    kind = next(c.kind for c in comparisons if c.name == name)
    return LEVELS[kind][out[gamma_column(name)][0]]


def test_two_common_names_that_look_alike_are_other_names_not_a_typo() -> None:
    # Olivia and Oliver are both held by many leads: two people, not a typo
    assert names_pair_levels("Olivia", "Oliver", {"Olivia": 40, "Oliver": 100}) == "other_name"
    # a typo is a name few leads hold, and far fewer than the name it misspells
    assert names_pair_levels("Geuald", "Gerald", {"Gerald": 100}) == "partial"
    assert names_pair_levels("Micheal", "Michael", {"Micheal": 4, "Michael": 1000}) == "close"
    # without enough leads to know the names, look-alikes stay close / partial
    assert names_pair_levels("Olivia", "Oliver", {}) == "partial"
    assert names_pair_levels("Olivia", "Oliver", {"Olivia": 40, "Oliver": 100}, common_name_count=0) == "partial"
    # nicknames are never "other names"
    assert names_pair_levels("Tom", "Thomas", {"Tom": 100, "Thomas": 100}) == "nickname"
    # surnames too: Hernandez and Fernandez are two families
    assert names_pair_levels("Hernandez", "Fernandez", {"Hernandez": 50, "Fernandez": 50}, field="last_name") == "other_name"
    assert names_pair_levels("Hernandes", "Hernandez", {"Hernandez": 50}, field="last_name") == "close"


def test_transposed_names_are_recognised_even_with_a_typo() -> None:
    left = {"first_name": "Tobias", "last_name": "Becker"}
    right = {"first_name": "Becker", "last_name": "Tobais"}
    assert level("first_name", left, right) == "transposed"
    assert level("last_name", left, right) == "transposed"


def test_names_that_only_share_a_prefix_crosswise_are_not_transposed() -> None:
    # John ~ Johnson and Davies ~ David look alike to Jaro-Winkler, but are 2-3 edits apart
    left = {"first_name": "John", "last_name": "Davies"}
    right = {"first_name": "David", "last_name": "Johnson"}
    assert level("first_name", left, right) != "transposed"
    assert level("last_name", left, right) != "transposed"


@pytest.mark.parametrize(("typed", "name", "expected"), [
    ("Duve", "David", "partial"),  # Dave with a typo
    ("Bll", "William", "partial"),  # Bill with a letter lost
    ("Mcrgaret", "Maggie", "partial"),  # Margaret (a form of Maggie) with a typo
    ("Xyz", "William", "different"),
])
def test_a_typo_of_a_nickname_is_partial_not_different(typed: str, name: str, expected: str) -> None:
    assert names_pair_levels(typed, name, {name: 50}) == expected


def test_two_known_names_are_never_a_typo_of_a_nickname() -> None:
    # Dave is one edit from Dove, but both are names many leads hold
    assert names_pair_levels("Dove", "David", {"Dove": 20, "David": 50}) == "different"


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("john.smith@acme.com", "john.smith@acme.com", "exact"),
    ("john.smith+web@acme.com", "john.smith@acme.com", "variant"),
    ("j.o.hn.smith@gmail.com", "johnsmith@googlemail.com", "variant"),
    ("john.smith@acme.com", "john.smith@gmail.com", "same_local"),
    ("jsmith@acme.com", "john78@gmail.com", "other_domain"),
    ("jsmith@acme.com", "jsmith2@acme.com", "numbered"),
    ("bob.obrien@acme.com", "robert.obrien@acme.com", "different"),
])
def test_email_levels(a: str, b: str, expected: str) -> None:
    assert level("email", {"email": a}, {"email": b}) == expected


def test_a_mailbox_made_of_the_last_name_at_two_domains_adds_nothing_to_the_names() -> None:
    # two James Roberts are likely to both be james.roberts@ somewhere: not a shared mailbox
    a, b = {"last_name": "Roberts", "email": "james.roberts@acme.com"}, {"last_name": "Roberts", "email": "james.roberts@outlook.com"}
    assert level("email", a, b) == "other_domain"
    assert level("email", {"last_name": "Schröder", "email": "a.schroeder@x.de"}, {"last_name": "Schröder", "email": "a.schroeder@gmx.de"}) == "other_domain"
    # a mailbox name that is not the name is a shared personal handle
    assert level("email", {"last_name": "Roberts", "email": "bigjim77@acme.com"}, {"last_name": "Roberts", "email": "bigjim77@gmail.com"}) == "same_local"


def test_phone_levels_tell_a_shared_switchboard_from_a_personal_number() -> None:
    org = {"company_key": "acme"}
    assert level("phone", {"phone": "+4930123"} | org, {"phone": "+4930123"} | org) == "shared_org"
    assert level("phone", {"phone": "+4930123", "company_key": "acme"}, {"phone": "+4930123", "company_key": "globex"}) == "exact"
    assert level("phone", {"phone": "+4930123", "mobile_phone": "+49170555"}, {"phone": "+49170555"} | org) == "mobile"
    assert level("phone", {"phone": "+14155550123"}, {"phone": "+14085550123"}) == "last7"
    assert level("phone", {"phone": "+4930123"}, {"phone": None}) == "missing"


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("acme", "acme", "exact"),
    ("advanced micro devices", "amd", "close"),
    ("acme robotics group", "acme robotics", "close"),
    ("globex", "initech", "different"),
    ("hunteragritech", "hunter agritech", "close"),  # a lost space
    ("johnsonmfoods", "johnson foods", "close"),  # a typo for the space
    ("smith analytics", "smith logistics", "different"),
    ("[not provided]", "acme", "missing"),
])
def test_company_levels(a: str, b: str, expected: str) -> None:
    assert level("company", {"company_key": a}, {"company_key": b}) == expected


def test_company_domain_level() -> None:
    assert level("company", {"company_key": "acme", "company_domain": "acme.com"},
                 {"company_key": "acme corp international", "company_domain": "acme.com"}) in ("domain", "close")
    assert level("company", {"company_key": "xyz", "company_domain": "acme.com"}, {"company_key": "qrs", "company_domain": "acme.com"}) == "domain"


def test_date_and_identifier_levels() -> None:
    comparisons = [Comparison(name="dob", kind="date", field="street"), Comparison(name="ssn", kind="identifier", field="city")]
    assert level("dob", {"street": "19800312"}, {"street": "19801203"}, comparisons) == "close"  # day and month swapped
    assert level("dob", {"street": "19800312"}, {"street": "19800322"}, comparisons) == "close"  # one typo
    assert level("dob", {"street": "19800312"}, {"street": "19801130"}, comparisons) == "partial"
    assert level("ssn", {"city": "1234567"}, {"city": "1234576"}, comparisons) == "close"
    assert level("ssn", {"city": "1234567"}, {"city": "7654321"}, comparisons) == "different"


def test_postal_code_levels() -> None:
    assert level("postal_code", {"postal_code": "EC2M 9BF"}, {"postal_code": "ec2m9bf"}) == "exact"
    assert level("postal_code", {"postal_code": "10115"}, {"postal_code": "10117"}) == "partial"


def test_typographic_apostrophes_do_not_matter() -> None:
    assert level("last_name", {"first_name": "Bob", "last_name": "O’Brien"}, {"first_name": "Bob", "last_name": "O'Brien"}) == "exact"


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("Head of Marketing", "head of marketing", "exact"),
    ("Head of Marketing", "Head of Marketng", "close"),
    ("CEO", "Office Manager", "different"),
    (None, "CEO", "missing"),
])
def test_title_levels(a: str | None, b: str, expected: str) -> None:
    assert level("title", {"title": a}, {"title": b}) == expected


def test_shared_lower_case_columns_change_no_level_and_no_count() -> None:
    """The engine lower-cases the counted fields once (``with_lower_columns``) and the comparisons
    reuse that copy: the levels and the term frequencies must be those computed from the raw fields."""
    settings = DedupSettings()
    records = generated_leads(3_000, seed=3).select(MATCH_COLUMNS).with_columns(
        # stray spaces and capitals, which the lower-cased copy must absorb like the raw path
        pl.concat_str(pl.lit(" "), pl.col("first_name").str.to_uppercase()).alias("first_name"),
    )
    pairs, _ = candidate_pairs(blocking_keys(records, settings.blocking_rules), None, settings.blocking_rules,
                               settings.max_block_size)
    lowered = with_lower_columns(records, settings.comparisons)
    assert lowered.width > records.width
    for c in settings.comparisons:
        if c.term_frequency:
            assert term_frequencies(lowered, c).sort("value").equals(term_frequencies(records, c).sort("value"))
    assert compare_pairs(pairs, lowered, settings.comparisons).equals(compare_pairs(pairs, records, settings.comparisons))


def test_each_pair_gets_the_levels_it_gets_when_compared_alone() -> None:
    """Levels are computed once per distinct combination of values and joined back to the pairs
    (codes packed two by two, inputs that share codes counted once): no pair may get another's."""
    settings = DedupSettings()
    records = generated_leads(2_000, seed=11).select(MATCH_COLUMNS)
    pairs, _ = candidate_pairs(blocking_keys(records, settings.blocking_rules), None, settings.blocking_rules,
                               settings.max_block_size)
    together = compare_pairs(pairs, records, settings.comparisons)
    gammas = [gamma_column(c.name) for c in settings.comparisons]
    assert together.select(gammas).null_count().sum_horizontal()[0] > 0  # missing values are in play
    for row in pairs.sample(30, seed=1).iter_rows(named=True):
        alone = compare_pairs(pl.DataFrame([row], schema=pairs.schema), records, settings.comparisons)
        expected = together.filter((pl.col("lead_id_l") == row["lead_id_l"]) & (pl.col("lead_id_r") == row["lead_id_r"]))
        assert alone.select(gammas).rows() == expected.select(gammas).rows()


def test_comparisons_in_threads_give_what_one_thread_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparisons run side by side and share the records' derived columns and codes: the
    levels, term frequencies and column order must be those of one comparison at a time."""
    settings = DedupSettings()
    records = generated_leads(3_000, seed=5).select(MATCH_COLUMNS).drop("title")  # a compared field absent
    pairs, _ = candidate_pairs(blocking_keys(records, settings.blocking_rules), None, settings.blocking_rules,
                               settings.max_block_size)
    monkeypatch.setattr(comparisons, "comparison_threads", lambda pairs: 1)
    alone = compare_pairs(pairs, records, settings.comparisons)
    assert alone[gamma_column("title")].null_count() == alone.height
    assert [c for c in alone.columns if c.startswith("tf_")]
    monkeypatch.setattr(comparisons, "comparison_threads", lambda pairs: 9)
    computed = comparisons._computed

    def slow(*args: object) -> pl.DataFrame:  # widens the window of a race between threads
        time.sleep(0.002)
        return computed(*args)

    monkeypatch.setattr(comparisons, "_computed", slow)
    for _ in range(3):
        assert compare_pairs(pairs, records, settings.comparisons).equals(alone)


def test_large_runs_compare_two_at_a_time() -> None:
    assert comparisons.comparison_threads(comparisons.MANY_PAIRS - 1) > 2
    assert comparisons.comparison_threads(comparisons.MANY_PAIRS) == 2
