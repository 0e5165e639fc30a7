"""Typed settings of the matching stage: blocking rules, comparisons, model, thresholds, clusters.

The defaults are the lead profile (names, email, phone, company, address). A different profile,
for example person-only data with no email or phone, is a different list of
``[[dedup.blocking_rules]]`` and ``[[dedup.comparisons]]`` in the TOML file.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Transforms a blocking-key part may apply to its field (``field:transform``).
KEY_TRANSFORMS = (
    "lower", "initial", "prefix3", "prefix4", "prefix5", "metaphone", "soundex", "digits",
    "last7", "local_part", "local_letters", "canonical_email", "year",
)
_PART = re.compile(r"^([a-z][a-z0-9_]*)(?::([a-z0-9_]+))?$")

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
        "the rule fires when every entry holds."
    )


class Survivorship(_Model):
    """How the golden record picks each field's value among a cluster's leads."""

    default: Literal["most_recent", "most_complete", "source_priority", "oldest"] = Field(
        "most_recent", description="Rule for fields not listed in 'fields': the most recent non-null value, etc."
    )
    fields: dict[str, Literal["most_recent", "most_complete", "source_priority", "oldest"]] = Field(
        default_factory=lambda: {"company": "most_complete", "street": "most_complete", "title": "most_recent"},
        description="Per-field rule overriding the default.",
    )
    source_priority: list[str] = Field(
        default_factory=lambda: ["form", "trade_show", "bulk"],
        description="Source kinds from most to least trusted, for 'source_priority' (ties: most recent).",
    )


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
        return self
