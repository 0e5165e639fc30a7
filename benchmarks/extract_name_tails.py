"""Write ``benchmarks/data/name_tails.csv``: the rarer first and last names the generator draws.

The generator's curated name lists hold only the few hundred most common names of each language,
in order of frequency. Alone they made namesakes far more common than in real life (one
generated American in 22 was a Smith; one in 126 in the 2010 census), which buried the matching
errors a better engine could avoid under ones no evidence could avoid. This
script takes the longer name lists of the Faker library (MIT licence; its en_US lists come from
the US census and social-security data) as the generator's *tail*: names outside the curated
head, drawn all with the same small weight.

The CSV is committed, so generating leads needs neither Faker nor the network, and the generated
files do not change when Faker does. Re-run it only to refresh the lists, with Faker installed
in a scratch venv (it is not a leadpipe dependency)::

    python3 -m venv /tmp/fakerenv && /tmp/fakerenv/bin/pip install faker
    /tmp/fakerenv/bin/python benchmarks/extract_name_tails.py
"""

from __future__ import annotations

import csv
import importlib
from pathlib import Path

TARGET = Path(__file__).with_name("data") / "name_tails.csv"

#: pool of the generator -> (Faker locale, Faker attribute), in the order the names are kept
SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "first_en": (("en_US", "first_names"), ("en_GB", "first_names")),
    "first_de": (("de_DE", "first_names"), ("de_AT", "first_names")),
    "first_fr": (("fr_FR", "first_names"), ("fr_CA", "first_names")),
    "last_us": (("en_US", "last_names"),),
    "last_gb": (("en_GB", "last_names"), ("en_IE", "last_names")),
    "last_de": (("de_DE", "last_names"), ("de_AT", "last_names"), ("de_CH", "last_names")),
    "last_fr": (("fr_FR", "last_names"), ("fr_CA", "last_names")),
}


def faker_names(locale: str, attribute: str) -> list[str]:
    """A Faker name list, most frequent first when Faker weighs it (an ordered dict)."""
    names = getattr(importlib.import_module(f"faker.providers.person.{locale}").Provider, attribute)
    if isinstance(names, dict):
        return [name for name, _ in sorted(names.items(), key=lambda item: -item[1])]
    return list(names)


def main() -> int:
    import faker

    rows: list[tuple[str, str]] = []
    for pool, sources in SOURCES.items():
        seen: set[str] = set()
        for locale, attribute in sources:
            for name in faker_names(locale, attribute):
                # single words: Faker's 36 others mix real names (Le Gall, Hans Peter) with junk
                # ("Dussen van", "Koch II") and abbreviations ("Hans-J."); the curated lists hold
                # the common multi-word names (Da Silva, van der Berg)
                if name and " " not in name and "." not in name and name not in seen:
                    seen.add(name)
                    rows.append((pool, name))
    TARGET.parent.mkdir(exist_ok=True)
    with TARGET.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("pool", "name"))
        writer.writerows(rows)
    print(f"{len(rows):,} names from Faker {faker.VERSION} -> {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
