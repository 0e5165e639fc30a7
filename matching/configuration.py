"""Typed settings of the matching stage: blocking rules, comparisons, model, thresholds, clusters.

The defaults are the lead profile (names, email, phone, company, address). The engine
(``matching.engine.match_leads``) compares whatever columns it is given, so other profiles, such
as the person-only one of ``benchmarks/profiles/person.toml`` (dates of birth, social-security
numbers), run through it; a warehouse run reads only ``WAREHOUSE_MATCH_FIELDS``, and its
configuration may name only those (``unread_fields``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from transforms import schema as s

#: Transforms a blocking-key part may apply to its field (``field:transform``).
KEY_TRANSFORMS = (
    "lower", "initial", "prefix3", "prefix4", "prefix5", "metaphone", "soundex", "digits",
    "last7", "local_part", "local_letters", "canonical_email", "year",
)
_PART = re.compile(r"^([a-z][a-z0-9_]*)(?::([a-z0-9_]+))?$")

#: The levels of each comparison kind, strongest first (``matching.comparisons`` computes them).
LEVELS: dict[str, tuple[str, ...]] = {
    "first_name": ("exact", "nickname", "transposed", "close", "initial", "partial", "other_name", "different"),
    "last_name": ("exact", "transposed", "close", "partial", "other_name", "different"),
    "email": ("exact", "variant", "same_local", "other_domain", "numbered", "different"),
    "phone": ("mobile", "exact", "shared_org", "last7", "different"),
    "company": ("exact", "domain", "close", "partial", "different"),
    "string": ("exact", "close", "partial", "different"),
    "postal_code": ("exact", "partial", "different"),
    "date": ("exact", "close", "partial", "different"),
    "identifier": ("exact", "close", "different"),
}
#: The level of a pair where either side has no value.
MISSING = "missing"

#: Virtual key-part field: a lead's phone and mobile phone, each its own key.
ANY_PHONE = "any_phone"
#: Virtual key-part field: first and last name, lower-case, in alphabetical order (finds swapped names).
NAME_SET = "name_set"
#: The lead fields a dedup run of the warehouse reads and can block on or compare.
WAREHOUSE_MATCH_FIELDS: tuple[str, ...] = (
    s.FIRST_NAME, s.LAST_NAME, s.EMAIL, s.PHONE, s.MOBILE_PHONE, s.COMPANY_KEY, s.COMPANY_DOMAIN,
    s.STREET, s.CITY, s.POSTAL_CODE, s.TITLE,
)

#: Golden-record field groups, chosen together from one lead; the first field names the group's
#: survivorship rule (``matching.golden``).
GOLDEN_GROUPS: tuple[tuple[str, ...], ...] = (
    (s.SALUTATION,),
    (s.FIRST_NAME,),
    (s.LAST_NAME,),
    (s.TITLE,),
    (s.COMPANY, s.COMPANY_KEY),
    (s.EMAIL, s.EMAIL_DOMAIN, s.IS_FREEMAIL),
    (s.PHONE,),
    (s.MOBILE_PHONE,),
    (s.WEBSITE, s.WEBSITE_DOMAIN),
    (s.COMPANY_DOMAIN,),
    (s.STREET, s.CITY, s.STATE, s.POSTAL_CODE, s.COUNTRY),
    (s.INDUSTRY,),
    (s.ANNUAL_REVENUE,),
    (s.NUMBER_OF_EMPLOYEES,),
    (s.LEAD_SOURCE,),
)
SOURCE_KINDS = s.SOURCE_KINDS

ComparisonKind = Literal[
    "first_name", "last_name", "email", "phone", "company", "string", "postal_code", "date", "identifier",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BlockingRule(_Model):
    """One blocking rule: leads whose key parts are all equal become candidate pairs."""

    name: str = Field(description="Rule name, recorded on every pair it produces.")
    parts: list[str] = Field(
        description="Key parts, each 'field' or 'field:transform' "
        f"(transforms: {', '.join(KEY_TRANSFORMS)}). All parts must be present for a key.",
        min_length=1,
    )
    max_block_size: int | None = Field(
        None, ge=2,
        description="Keys held by more leads than this are skipped for this rule (default: the global max_block_size). "
        "A loose key (name + city) with a small cap pairs only the rarer names.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise ValueError("must be lower-case letters, digits and underscores")
        return value

    @field_validator("parts")
    @classmethod
    def _parts(cls, parts: list[str]) -> list[str]:
        for part in parts:
            match = _PART.match(part)
            if not match:
                raise ValueError(f"{part!r} is not 'field' or 'field:transform'")
            if match.group(2) and match.group(2) not in KEY_TRANSFORMS:
                raise ValueError(f"{part!r}: unknown transform, use one of {', '.join(KEY_TRANSFORMS)}")
        return parts


class Comparison(_Model):
    """One comparison: how a field (or field group) of two leads is compared, in levels."""

    name: str = Field(description="Comparison name (column suffix in match_pairs).")
    kind: ComparisonKind = Field(description="Which comparison function and levels to use.")
    field: str = Field(description="The lead field compared.")
    term_frequency: bool = Field(
        False, description="Adjust the weight of an exact match by how common the value is (rare = stronger)."
    )
    close: float = Field(0.92, ge=0, le=1, description="Similarity (0-1) from which values are 'close'.")
    partial: float = Field(0.80, ge=0, le=1, description="Similarity (0-1) from which values are 'partial'.")
    common_name_count: int = Field(
        3, ge=0,
        description="first_name / last_name: two different names that look alike (Olivia / Oliver) are known names, "
        "level 'other_name' instead of 'close' or 'partial', when the rarer one is held by at least this many leads "
        "and by at least common_name_ratio times as many as the other (a typo makes a name few leads share: "
        "Micheal / Michael). 0 turns this off.",
    )
    common_name_ratio: float = Field(
        0.03, ge=0, le=1, description="first_name / last_name: see common_name_count."
    )

    @model_validator(mode="after")
    def _thresholds(self) -> Comparison:
        if self.partial > self.close:
            raise ValueError("partial must not be above close")
        return self


class LinkRule(_Model):
    """A deterministic rule on top of the scores: all listed comparisons at one of the levels."""

    name: str = Field(description="Rule name, recorded as decided_by 'rule:<name>'.")
    when: dict[str, list[str]] = Field(
        description="Comparison name -> accepted levels ('missing' for a value absent on either side); "
        "the rule fires when every entry holds.",
        min_length=1,
    )

    @field_validator("when")
    @classmethod
    def _levels_given(cls, when: dict[str, list[str]]) -> dict[str, list[str]]:
        empty = [name for name, levels in when.items() if not levels]
        if empty:
            raise ValueError(f"no level listed for {', '.join(empty)}: the rule could never fire")
        return when


SurvivorshipRule = Literal["most_recent", "most_complete", "source_priority", "oldest"]
#: The per-field rules a configuration starts from; its own ``fields`` entries replace these one by one.
DEFAULT_FIELD_RULES: dict[str, SurvivorshipRule] = {"company": "most_complete", "street": "most_complete", "title": "most_recent"}


class Survivorship(_Model):
    """How the golden record picks each field's value among a cluster's leads."""

    default: SurvivorshipRule = Field(
        "most_recent", description="Rule for fields not listed in 'fields': the most recent non-null value, etc."
    )
    fields: dict[str, SurvivorshipRule] = Field(
        default_factory=lambda: dict(DEFAULT_FIELD_RULES),
        description="Per-field rule overriding the default, by the first field of a group (company, email, website, "
        "street for the address); entries given replace the built-in ones (company and street most_complete, "
        "title most_recent) field by field, the others stay.",
    )
    source_priority: list[str] = Field(
        default_factory=lambda: list(SOURCE_KINDS),
        description="Source kinds from most to least trusted, for 'source_priority' (unlisted kinds after them; ties: most recent).",
    )

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("fields"), dict):
            return {**data, "fields": {**DEFAULT_FIELD_RULES, **data["fields"]}}
        return data

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: dict[str, SurvivorshipRule]) -> dict[str, SurvivorshipRule]:
        firsts = {group[0]: group for group in GOLDEN_GROUPS}
        problems = []
        for name in fields:
            group = next((g for g in GOLDEN_GROUPS if name in g), None)
            if group is None:
                problems.append(f"{name!r} is no golden-record field (fields: {', '.join(firsts)})")
            elif name not in firsts:
                problems.append(f"{name!r} is chosen together with {group[0]!r} ({', '.join(group)}): set the rule on {group[0]!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return fields

    def effective(self) -> dict[str, object]:
        """What decides the golden records: each group's rule (by its first field), and the source
        order when a group uses it. Two settings with the same effective rules build the same
        records (a reordered ``source_priority`` no group uses, a field set to the default rule)."""
        rules = {group[0]: self.fields.get(group[0], self.default) for group in GOLDEN_GROUPS}
        order = list(self.source_priority)
        unlisted = [kind for kind in SOURCE_KINDS if kind not in order]
        if len(unlisted) == 1:  # the one kind left out ranks after the others: as if listed last
            order += unlisted
        return {"rules": rules, "source_priority": order if "source_priority" in rules.values() else None}

    @field_validator("source_priority")
    @classmethod
    def _known_kinds(cls, kinds: list[str]) -> list[str]:
        unknown = [k for k in kinds if k not in SOURCE_KINDS]
        if unknown:
            raise ValueError(f"unknown source kind(s) {', '.join(map(repr, unknown))}; the kinds are {', '.join(SOURCE_KINDS)}")
        twice = sorted({k for k in kinds if kinds.count(k) > 1})
        if twice:
            raise ValueError(f"{', '.join(map(repr, twice))} listed twice")
        return kinds


def default_blocking_rules() -> list[BlockingRule]:
    # Chosen on generated lead data for recall per pair. name_postcode adds 3% more pairs and
    # finds 15% of the duplicates the others miss; rules such as name + city, last name +
    # company prefix or the e-mail's mailbox letters each find another 15% but add 50-150% pairs
    # at 0.3M leads (docs/matching.md, "Blocking").
    return [
        BlockingRule(name="email", parts=["email:canonical_email"]),
        BlockingRule(name="phone", parts=["any_phone"]),
        BlockingRule(name="name_company", parts=["last_name:metaphone", "company_key"]),
        BlockingRule(name="swapped_name_company", parts=["name_set", "company_key:prefix4"]),
        BlockingRule(name="initials_company", parts=["first_name:initial", "last_name:initial", "company_key"]),
        BlockingRule(name="domain_name", parts=["company_domain", "last_name:lower"]),
        BlockingRule(name="name_postcode", parts=["first_name:initial", "last_name:metaphone", "postal_code"]),
        BlockingRule(name="name_phone", parts=["last_name:metaphone", "any_phone"]),
        BlockingRule(name="name_company_prefix", parts=["first_name:initial", "last_name:metaphone", "company_key:prefix4"],
                     max_block_size=4),
    ]


def default_comparisons() -> list[Comparison]:
    return [
        Comparison(name="first_name", kind="first_name", field="first_name", term_frequency=True),
        Comparison(name="last_name", kind="last_name", field="last_name", term_frequency=True),
        Comparison(name="email", kind="email", field="email"),
        Comparison(name="phone", kind="phone", field="phone"),
        Comparison(name="company", kind="company", field="company_key", term_frequency=True, close=0.9, partial=0.75),
        Comparison(name="street", kind="string", field="street", close=0.9, partial=0.8),
        Comparison(name="city", kind="string", field="city", close=0.9, partial=0.85),
        Comparison(name="postal_code", kind="postal_code", field="postal_code"),
        # the same job title is strong evidence for two records with one name at one company;
        # two different titles tell namesake colleagues apart (people do change titles: a weak "against")
        Comparison(name="title", kind="string", field="title", close=0.9, partial=0.8),
    ]


def default_link_rules() -> list[LinkRule]:
    # Same canonical email and a compatible first name: the same person, whatever the model says.
    return [
        LinkRule(
            name="same_email_and_name",
            when={"email": ["exact", "variant"], "first_name": ["exact", "nickname", "transposed", "close", "initial"]},
        ),
    ]


# No personal contact point in common: neither the e-mail address nor its mailbox name ("same_local":
# russell.griffiths@ at two domains), nor a phone other than a number shared across a company.
_NO_SHARED_EMAIL = ["other_domain", "different", "missing"]
_NO_SHARED_PHONE = ["shared_org", "last7", "different", "missing"]


def default_cannot_rules() -> list[LinkRule]:
    # Two clearly different first (or last) names (not a typo, nickname, initial or swap) and no
    # personal contact point in common: colleagues or namesakes, not duplicates.
    return [
        LinkRule(
            name="different_person",
            when={"first_name": ["different"], "email": _NO_SHARED_EMAIL, "phone": _NO_SHARED_PHONE},
        ),
        # the same mailbox name with another number at one company: a namesake colleague
        LinkRule(name="numbered_mailbox", when={"email": ["numbered"]}),
        # Thomas Laurent and Laurent Thomas with two mailboxes at one domain: two colleagues, each
        # mailbox made from its own name (a swap by mistake keeps the one address)
        LinkRule(name="swapped_colleague", when={"first_name": ["transposed"], "email": ["different"]}),
        LinkRule(
            name="different_family",
            when={"last_name": ["different"], "email": _NO_SHARED_EMAIL, "phone": _NO_SHARED_PHONE},
        ),
    ]


class DedupSettings(_Model):
    """Duplicate detection: blocking, comparison, Fellegi-Sunter scoring, clustering, golden records."""

    enabled: bool = Field(True, description="Run duplicate detection at all.")
    blocking_rules: list[BlockingRule] = Field(
        default_factory=default_blocking_rules, description="Candidate pairs share all parts of at least one rule's key."
    )
    max_block_size: int = Field(
        30, ge=2, description="A key shared by more leads than this is skipped (and reported), not compared all-to-all."
    )
    comparisons: list[Comparison] = Field(default_factory=default_comparisons, description="Field comparisons.")
    match_threshold: float = Field(
        0.5, gt=0, lt=1, description="Pairs with match probability at or above this are duplicates."
    )
    review_threshold: float = Field(
        0.2, gt=0, lt=1, description="Pairs between this and match_threshold are exported for review."
    )
    must_link: list[LinkRule] = Field(default_factory=default_link_rules, description="Pairs always linked.")
    cannot_link: list[LinkRule] = Field(default_factory=default_cannot_rules, description="Pairs never linked.")
    max_cluster_size: int = Field(50, ge=2, description="Clusters larger than this are split at their weakest links.")
    non_match_classes: int = Field(
        3, ge=1, le=6,
        description="Kinds of different people the model tells apart from duplicates (colleagues, namesakes, strangers).",
    )
    em_max_iterations: int = Field(50, ge=1, description="Iterations of the EM that estimates m and u.")
    random_pairs: int = Field(
        20_000, ge=1000, description="Random pairs sampled to show how often strangers agree (stored with the model)."
    )
    seed: int = Field(42, description="Seed for the random-pair sample (results are deterministic).")
    refit_every_run: bool = Field(
        False, description="Fit the model again on every run (default: reuse the stored model unless settings change)."
    )
    survivorship: Survivorship = Field(default_factory=Survivorship, description="Golden-record rules.")

    @model_validator(mode="after")
    def _check(self) -> DedupSettings:
        if self.review_threshold > self.match_threshold:
            raise ValueError("review_threshold must not be above match_threshold")
        if self.enabled and not self.comparisons:
            raise ValueError("comparisons is empty: a pair needs at least one comparison to be scored")
        if self.enabled and not self.blocking_rules:
            raise ValueError("blocking_rules is empty: no pair would ever be compared (set enabled = false to turn matching off)")
        names = [c.name for c in self.comparisons]
        if len(names) > 15:
            raise ValueError("at most 15 comparisons")
        if len(set(names)) != len(names):
            raise ValueError("comparison names must be unique")
        rules = [r.name for r in self.blocking_rules]
        if len(rules) > 63:
            raise ValueError("at most 63 blocking rules (each is a bit of match_pairs' rules mask)")
        if len(set(rules)) != len(rules):
            raise ValueError("blocking rule names must be unique")
        for rule in [*self.must_link, *self.cannot_link]:
            unknown = set(rule.when) - set(names)
            if unknown:
                raise ValueError(f"rule {rule.name!r} refers to unknown comparisons {sorted(unknown)}")
        problems = unknown_rule_levels(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def unknown_rule_levels(settings: DedupSettings) -> list[str]:
    """Link-rule entries naming a level their comparison does not have."""
    by_name = {c.name: c for c in settings.comparisons}
    problems = []
    for rule in [*settings.must_link, *settings.cannot_link]:
        for name, accepted in rule.when.items():
            if name not in by_name:
                continue
            levels = LEVELS[by_name[name].kind]
            bad = [level for level in accepted if level not in (*levels, MISSING)]
            if bad:
                problems.append(f"rule {rule.name!r}: {name} has no level {', '.join(bad)} (has {', '.join(levels)}, {MISSING})")
    return problems


def unread_fields(settings: DedupSettings) -> list[str]:
    """Blocking-rule parts and comparisons naming a field that a dedup run of the warehouse does
    not read (``WAREHOUSE_MATCH_FIELDS``): a typo there would make no key, or compare nothing, without
    a word. The engine itself compares whatever columns it is given (the person profile of the
    benchmarks compares dates of birth), so this is checked for the warehouse's configuration."""
    known = (*WAREHOUSE_MATCH_FIELDS, ANY_PHONE, NAME_SET)
    problems = []
    for i, rule in enumerate(settings.blocking_rules):
        bad = [part for part in rule.parts if part.partition(":")[0] not in known]
        if bad:
            problems.append(f"blocking_rules[{i}] ({rule.name}): unknown field in {', '.join(map(repr, bad))}")
    for i, comparison in enumerate(settings.comparisons):
        if comparison.field not in WAREHOUSE_MATCH_FIELDS:
            problems.append(f"comparisons[{i}] ({comparison.name}): unknown field {comparison.field!r}")
    if problems:
        problems.append(f"a dedup run reads {', '.join(WAREHOUSE_MATCH_FIELDS)} (and {ANY_PHONE}, {NAME_SET} in blocking rules)")
    return problems
