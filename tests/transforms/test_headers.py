"""Tests for transforms.headers: alias table, profiles, and the vectorised extra/raw_record JSON."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import headers as hdr
from transforms.errors import ConfigError, IngestError
from transforms.headers import apply_mapping, header_score, map_headers, normalise_header
from transforms.reading import RAW_LINE, read_table
from transforms.schema import (
    COMPANY,
    EMAIL,
    EXTRA,
    FIRST_NAME,
    FULL_NAME,
    INPUT_FIELDS,
    LAST_NAME,
    RAW_RECORD,
    ROW_ERROR,
    SOURCE_ROW,
)


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("E-Mail", "email"),
        ("  Straße / Nr. ", "strassenr"),
        ("Código postal", "codigopostal"),
        ("FIRST_NAME", "firstname"),
        ("Téléphone", "telephone"),
        ("Имя", "имя"),
    ],
)
def test_normalise_header(header: str, normalised: str) -> None:
    assert normalise_header(header) == normalised


# fmt: off
ALIAS_CASES = [
    # English exports (Salesforce, HubSpot, Mailchimp, LinkedIn, form tools)
    ("Email Address", "email"), ("E-mail", "email"), ("Work Email", "email"),
    ("FNAME", "first_name"), ("given_name", "first_name"), ("Forename", "first_name"),
    ("LNAME", "last_name"), ("surname", "last_name"), ("Family Name", "last_name"),
    ("Name", "full_name"), ("Contact Name", "full_name"), ("Attendee", "full_name"),
    ("Account Name", "company"), ("Organisation", "company"), ("Employer", "company"),
    ("Job Title", "title"), ("Position", "title"), ("Tel", "phone"),
    ("Business Phone", "phone"), ("Cell", "mobile_phone"), ("Mobile Phone", "mobile_phone"),
    ("Web Site", "website"), ("URL", "website"), ("Address Line 1", "street"),
    ("Town", "city"), ("Province", "state"), ("Zip Code", "postal_code"),
    ("Postcode", "postal_code"), ("Country", "country"), ("Industry", "industry"),
    ("Revenue", "annual_revenue"), ("Company Size", "number_of_employees"),
    ("Source", "lead_source"), ("Comments", "description"), ("Message", "description"),
    ("Prefix", "salutation"), ("ID", "external_id"), ("Timestamp", "submitted_at"),
    ("Submission Date", "submitted_at"), ("Form Name", "form_name"),
    ("utm_campaign", "campaign"), ("Email Opt Out", "has_opted_out_of_email"),
    ("Unsubscribed", "has_opted_out_of_email"), ("Do Not Call", "do_not_call"),
    ("HasOptedOutOfEmail", "has_opted_out_of_email"), ("NumberOfEmployees", "number_of_employees"),
    ("postal_code", "postal_code"),
    # German
    ("Vorname", "first_name"), ("Nachname", "last_name"), ("Firma", "company"),
    ("Unternehmen", "company"), ("E-Mail-Adresse", "email"), ("Telefon", "phone"),
    ("Handy", "mobile_phone"), ("Mobil", "mobile_phone"), ("Straße", "street"),
    ("Strasse", "street"), ("PLZ", "postal_code"), ("Postleitzahl", "postal_code"),
    ("Ort", "city"), ("Stadt", "city"), ("Land", "country"), ("Bundesland", "state"),
    ("Anrede", "salutation"), ("Branche", "industry"), ("Webseite", "website"),
    ("Mitarbeiter", "number_of_employees"), ("Bemerkung", "description"),
    # French
    ("Prénom", "first_name"), ("Nom", "last_name"), ("Société", "company"),
    ("Entreprise", "company"), ("Courriel", "email"), ("Téléphone", "phone"),
    ("Portable", "mobile_phone"), ("Adresse", "street"), ("Ville", "city"),
    ("Code postal", "postal_code"), ("Pays", "country"), ("Poste", "title"),
    ("Fonction", "title"), ("Secteur", "industry"),
    # Spanish
    ("Nombre", "first_name"), ("Apellido", "last_name"), ("Apellidos", "last_name"),
    ("Empresa", "company"), ("Correo electrónico", "email"), ("Teléfono", "phone"),
    ("Ciudad", "city"), ("País", "country"), ("Código postal", "postal_code"),
    ("Cargo", "title"),
    # Dutch / Italian
    ("Voornaam", "first_name"), ("Achternaam", "last_name"), ("Bedrijf", "company"),
    ("Nome", "first_name"), ("Cognome", "last_name"), ("Azienda", "company"),
    ("Città", "city"), ("CAP", "postal_code"),
]
# fmt: on


@pytest.mark.parametrize(("header", "field"), ALIAS_CASES)
def test_builtin_aliases(header: str, field: str) -> None:
    assert map_headers([header]).fields == {field: header}


def test_every_alias_targets_a_canonical_field() -> None:
    assert set(hdr._ALIAS_TABLE.values()) == set(INPUT_FIELDS)


def test_first_column_wins_and_later_ones_are_ambiguous_and_unmapped() -> None:
    mapping = map_headers(["E-Mail", "Name", "Email Address", "Messe-Stand", "Email (2)"])
    assert mapping.fields == {FULL_NAME: "Name", EMAIL: "E-Mail"}
    assert mapping.ambiguous == ("Email Address", "Email (2)")
    assert mapping.unmapped == ("Email Address", "Messe-Stand", "Email (2)")


def test_fields_are_in_canonical_order() -> None:
    mapping = map_headers(["Firma", "E-Mail", "Vorname"])
    assert list(mapping.fields) == [FIRST_NAME, COMPANY, EMAIL]


def test_profile_wins_over_aliases_and_is_matched_loosely() -> None:
    profile = {"kontakt e-mail": "email", "NAME": "company", "Stand-Nr.": "external_id"}
    mapping = map_headers(["Email", "Name", "Kontakt-E-Mail", "Stand Nr"], profile)
    assert mapping.fields == {COMPANY: "Name", EMAIL: "Kontakt-E-Mail", "external_id": "Stand Nr"}
    assert mapping.ambiguous == ("Email",)
    assert header_score(["Stand Nr", "foo"], profile) == 1


def test_profile_with_unknown_field_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown lead field 'e_mail'") as info:
        map_headers(["Email"], {"Mail": "e_mail"})
    assert info.value.key == "Mail"
    assert "email" in (info.value.hint or "") and "do_not_call" in (info.value.hint or "")


def test_profile_with_two_targets_for_one_header_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="two entries"):
        map_headers(["Email"], {"E-Mail": "email", "e_mail": "phone"})


def test_no_mappable_header_is_an_ingest_error() -> None:
    with pytest.raises(IngestError, match="maps to a lead field") as info:
        map_headers(["foo", "bar", "Messe Berlin 2026"])
    assert "'foo'" in info.value.message
    assert "profile" in (info.value.hint or "") and "Email" in (info.value.hint or "")


def test_header_score_counts_recognised_cells() -> None:
    assert header_score(["Messe Berlin 2026 – Besucherliste", "", ""]) == 0
    assert header_score(["Vorname", "Nachname", "Firma", "Stand", ""]) == 3


# --- apply_mapping -----------------------------------------------------------------------------


def raw_frame(data: dict[str, list[str | None]], **extra: list[object]) -> pl.DataFrame:
    n = len(next(iter(data.values())))
    frame = pl.DataFrame(data, schema={k: pl.String for k in data})
    return frame.with_columns(
        pl.int_range(1, n + 1, dtype=pl.Int64).alias(SOURCE_ROW),
        pl.lit(None, dtype=pl.String).alias(ROW_ERROR),
        *[pl.Series(k, v, dtype=pl.String) for k, v in extra.items()],
    )


def test_apply_mapping_columns_extra_and_raw_record() -> None:
    frame = raw_frame(
        {
            "E-Mail": ["a@x.de", None, "c@x.de"],
            "Firma": ["A", None, None],
            'Stand "Nr"': ["B12", None, None],
            "Halle\\": ['say "hi"\nbye €', None, "ü"],
        }
    )
    mapping = map_headers(frame.columns[:4])
    out = apply_mapping(frame, mapping)
    raw = hdr.raw_records(frame)
    assert out.columns == [*INPUT_FIELDS, EXTRA, SOURCE_ROW, ROW_ERROR]
    assert all(out.schema[c] == pl.String for c in [*INPUT_FIELDS, EXTRA])
    assert raw.columns == [SOURCE_ROW, RAW_RECORD] and raw[SOURCE_ROW].to_list() == frame[SOURCE_ROW].to_list()
    assert out[EMAIL].to_list() == ["a@x.de", None, "c@x.de"]
    assert out[LAST_NAME].null_count() == 3
    extras = [json.loads(v) if v is not None else None for v in out[EXTRA]]
    assert extras == [{'Stand "Nr"': "B12", "Halle\\": 'say "hi"\nbye €'}, None, {"Halle\\": "ü"}]
    assert json.loads(raw[RAW_RECORD][1]) == {
        "E-Mail": None,
        "Firma": None,
        'Stand "Nr"': None,
        "Halle\\": None,
    }
    assert json.loads(raw[RAW_RECORD][0])["Firma"] == "A"
    assert list(json.loads(raw[RAW_RECORD][2])) == frame.columns[:4]  # file order


def test_apply_mapping_carries_raw_line_and_handles_no_unmapped_columns() -> None:
    frame = raw_frame({"Email": ["a", "b"]}, **{RAW_LINE: [None, "b,x,y"]})
    out = apply_mapping(frame, map_headers(["Email"]))
    assert out.columns[-3:] == [SOURCE_ROW, ROW_ERROR, RAW_LINE]
    assert out[EXTRA].to_list() == [None, None]
    assert out[RAW_LINE].to_list() == [None, "b,x,y"]


def test_apply_mapping_on_an_empty_frame() -> None:
    frame = raw_frame({"Email": [], "Stand": []})
    out = apply_mapping(frame, map_headers(["Email", "Stand"]))
    assert out.height == 0 and out.schema[EXTRA] == pl.String


KEYS = st.text(min_size=1, max_size=8)
CELLS = st.one_of(st.none(), st.text(max_size=10))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, st.lists(CELLS, min_size=3, max_size=3), min_size=1, max_size=6))
def test_property_extra_is_the_non_null_unmapped_values(
    columns: dict[str, list[str | None]],
) -> None:
    columns = {k: v for k, v in columns.items() if k not in (SOURCE_ROW, ROW_ERROR, RAW_LINE)}
    if not columns:
        return
    frame = raw_frame(
        {"Email": ["a", "b", "c"], **{k: v for k, v in columns.items() if k != "Email"}}
    )
    mapping = hdr.HeaderMapping(
        {EMAIL: "Email"}, tuple(c for c in frame.columns[:-2] if c != "Email"), ()
    )
    out = apply_mapping(frame, mapping)
    raw = hdr.raw_records(frame)
    for i in range(3):
        expected = {k: frame[k][i] for k in mapping.unmapped if frame[k][i] is not None}
        got = out[EXTRA][i]
        assert (json.loads(got) if got is not None else {}) == expected
        assert got != "{}"
        assert json.loads(raw[RAW_RECORD][i]) == {k: frame[k][i] for k in frame.columns[:-2]}


def test_read_then_map_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "expo.csv"
    path.write_bytes(
        "Besucherliste Messe Berlin 2026;;;\n;;;\nAnrede;Vorname;Nachname;Firma;E-Mail;Stand\n"
        "Frau;Anna;Schmidt;ACME GmbH;anna@acme.de;B12\n".encode("cp1252")
    )
    table = read_table(path, header_score=header_score)
    out = apply_mapping(table.frame, map_headers(table.headers))
    row = out.row(0, named=True)
    assert (row["salutation"], row["first_name"], row["company"], row["email"]) == (
        "Frau",
        "Anna",
        "ACME GmbH",
        "anna@acme.de",
    )
    assert json.loads(row[EXTRA]) == {"Stand": "B12"}
    assert row[SOURCE_ROW] == 1


def test_headers_that_look_like_regular_expressions_are_taken_literally(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Email,^E.*$,Firma\na@x.de,stand 7,ACME\n", encoding="utf-8")
    table = read_table(path)
    assert table.frame["^E.*$"].to_list() == ["stand 7"]
    out = apply_mapping(table.frame, map_headers(table.headers))
    assert out.row(0, named=True)[EMAIL] == "a@x.de"
    assert json.loads(out[EXTRA][0]) == {"^E.*$": "stand 7"}
