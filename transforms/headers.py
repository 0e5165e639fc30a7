"""Map a source file's headers onto the canonical lead fields.

A header is compared after normalisation (case-folded, accents stripped, everything but letters
and digits removed), so "E-Mail-Adresse", "e_mail adresse" and "EMAIL ADRESSE" are one key. A
per-source profile from the config maps further headers and wins over the built-in aliases.

Example:
    >>> mapping = map_headers(["Vorname", "Nachname", "Firma", "E-Mail", "Messe-Stand"])
    >>> mapping.fields["email"], mapping.unmapped
    ('E-Mail', ('Messe-Stand',))
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from transforms.errors import ConfigError, IngestError
from transforms.schema import RAW_LINE
from transforms.schema import (
    ANNUAL_REVENUE,
    CAMPAIGN,
    CITY,
    COMPANY,
    COUNTRY,
    DESCRIPTION,
    DO_NOT_CALL,
    EMAIL,
    EXTERNAL_ID,
    EXTRA,
    FIRST_NAME,
    FORM_NAME,
    FULL_NAME,
    HAS_OPTED_OUT_OF_EMAIL,
    INDUSTRY,
    INPUT_FIELDS,
    LAST_NAME,
    LEAD_SOURCE,
    MOBILE_PHONE,
    NUMBER_OF_EMPLOYEES,
    PHONE,
    POSTAL_CODE,
    RAW_RECORD,
    ROW_ERROR,
    SALUTATION,
    SOURCE_ROW,
    STATE,
    STREET,
    SUBMITTED_AT,
    TITLE,
    WEBSITE,
)

__all__ = ["HeaderMapping", "apply_mapping", "header_score", "map_headers", "normalise_header"]

log = logging.getLogger(__name__)

# Header spellings per field, as found in CRM/marketing exports, form tools and trade-show
# scanners, in English, German, French, Spanish, Dutch and Italian. Written as humans spell them;
# they are normalised when the lookup table is built. "Name" alone is a full name; French "Nom"
# is the last name; Spanish "Nombre" and Italian "Nome" are the first name. One string of
# " | "-separated spellings per field keeps the table compact under the formatter.
_ALIASES: Final[dict[str, str]] = {
    SALUTATION: (
        "Salutation | Prefix | Honorific | Mr/Ms | Anrede | Civilité | Tratamiento | Saludo | "
        "Aanhef | Titolo di cortesia"
    ),
    FIRST_NAME: (
        "First Name | FirstName | FNAME | given_name | Given Name | Forename | First | "
        "Vorname | Prénom | Nombre | Voornaam | Nome"
    ),
    LAST_NAME: (
        "Last Name | LastName | LNAME | Surname | Family Name | Last | Nachname | "
        "Familienname | Nom | Nom de famille | Apellido | Apellidos | Achternaam | Cognome"
    ),
    FULL_NAME: (
        "Name | Full Name | Contact Name | Contact | Attendee | Attendee Name | Your Name | "
        "Visitor Name | Vollständiger Name | Ansprechpartner | Teilnehmer | Nom complet | "
        "Nombre completo | Naam | Volledige naam | Nome completo | Nominativo"
    ),
    TITLE: (
        "Title | Job Title | JobTitle | Position | Role | Job Role | Designation | Funktion | "
        "Berufsbezeichnung | Jobtitel | Poste | Fonction | Intitulé du poste | Cargo | "
        "Puesto | Functie | Ruolo | Qualifica"
    ),
    COMPANY: (
        "Company | Company Name | Organisation | Organization | Organisation Name | "
        "Organization Name | Account | Account Name | Employer | Business Name | Firm | "
        "Your Company | Firma | Unternehmen | Firmenname | Arbeitgeber | Société | "
        "Entreprise | Raison sociale | Empresa | Compañía | Organización | Bedrijf | "
        "Bedrijfsnaam | Organisatie | Azienda | Società | Ragione sociale"
    ),
    EMAIL: (
        "Email | E-mail | Email Address | E-mail Address | Work Email | Business Email | "
        "Primary Email | Mail | Your Email | E-Mail-Adresse | Email-Adresse | Mailadresse | "
        "Courriel | Adresse e-mail | Adresse mail | Adresse électronique | Correo | "
        "Correo electrónico | E-mailadres | Indirizzo email | Posta elettronica"
    ),
    PHONE: (
        "Phone | Phone Number | Telephone | Telephone Number | Tel | Work Phone | "
        "Business Phone | Office Phone | Direct Phone | Direct Dial | Your Phone | Telefon | "
        "Telefonnummer | Festnetz | Téléphone | Numéro de téléphone | Teléfono | "
        "Número de teléfono | Telefoon | Telefoonnummer | Telefono | Numero di telefono"
    ),
    MOBILE_PHONE: (
        "Mobile | Mobile Phone | Mobile Number | Cell | Cell Phone | Cellphone | Handy | "
        "Handynummer | Mobil | Mobilnummer | Mobiltelefon | Portable | Téléphone portable | "
        "Móvil | Celular | Teléfono móvil | Mobiel | Mobiel nummer | GSM | Cellulare"
    ),
    WEBSITE: (
        "Website | Web Site | URL | Company Website | Website URL | Web | Homepage | "
        "Webseite | Internetseite | Site web | Site internet | Sitio web | Página web | "
        "Sito web"
    ),
    STREET: (
        "Street | Street Address | Address | Address Line 1 | Address 1 | Straße | Strasse | "
        "Str | Straße und Hausnummer | Adresse | Anschrift | Rue | Dirección | Calle | "
        "Straat | Adres | Indirizzo"
    ),
    CITY: (
        "City | Town | Ort | Stadt | Wohnort | Ville | Ciudad | Localidad | Plaats | "
        "Woonplaats | Stad | Città | Comune"
    ),
    STATE: (
        "State | Province | Region | State/Province | State/Region | Bundesland | Région | "
        "Provincia | Estado | Región | Provincie | Regione"
    ),
    POSTAL_CODE: (
        "Zip | Zip Code | ZIP/Postal Code | Postal Code | Postcode | Post Code | PLZ | "
        "Postleitzahl | Code postal | CP | Código postal | CAP"
    ),
    COUNTRY: "Country | Country/Region | Land | Pays | País | Paese | Nazione",
    INDUSTRY: (
        "Industry | Vertical | Branche | Sector | Secteur | Secteur d'activité | Industria | "
        "Settore"
    ),
    ANNUAL_REVENUE: (
        "Annual Revenue | Revenue | Umsatz | Jahresumsatz | Chiffre d'affaires | Ingresos | "
        "Facturación | Omzet | Fatturato"
    ),
    NUMBER_OF_EMPLOYEES: (
        "Employees | Number of Employees | No. of Employees | Employee Count | Company Size | "
        "Headcount | Mitarbeiter | Mitarbeiterzahl | Anzahl Mitarbeiter | Effectif | "
        "Nombre d'employés | Empleados | Número de empleados | Medewerkers | "
        "Aantal medewerkers | Dipendenti | Numero di dipendenti"
    ),
    LEAD_SOURCE: (
        "Lead Source | Source | Original Source | Lead Origin | Quelle | Leadquelle | "
        "Herkunft | Origine | Fuente | Origen | Bron | Fonte"
    ),
    DESCRIPTION: (
        "Description | Notes | Note | Comments | Comment | Message | Your Message | Remarks | "
        "Bemerkung | Bemerkungen | Notiz | Notizen | Kommentar | Nachricht | Anmerkungen | "
        "Beschreibung | Commentaire | Commentaires | Remarques | Comentario | Comentarios | "
        "Mensaje | Notas | Descripción | Opmerking | Opmerkingen | Bericht | Omschrijving | "
        "Commenti | Messaggio | Descrizione"
    ),
    EXTERNAL_ID: (
        "External ID | ID | Lead ID | Record ID | Contact ID | Submission ID | Response ID | "
        "Registration ID | Badge ID | Badge Number | Barcode"
    ),
    SUBMITTED_AT: (
        "Submitted At | Submission Date | Submitted On | Submission Time | Date Submitted | "
        "Timestamp | Created | Created At | Created Date | Create Date | Scan Date | "
        "Scanned At | Erstellt am | Zeitstempel | Eingangsdatum | Date de soumission | "
        "Fecha de envío"
    ),
    FORM_NAME: "Form | Form Name | Form Title | Formular | Formulaire | Formulario",
    CAMPAIGN: "Campaign | Campaign Name | utm_campaign | Kampagne | Campagne | Campaña | Campagna",
    HAS_OPTED_OUT_OF_EMAIL: (
        "Email Opt Out | Email Opt-Out | Opt Out | Opted Out | Unsubscribed | Unsubscribe | "
        "Abgemeldet | Désabonné"
    ),
    DO_NOT_CALL: "Do Not Call | DNC | Nicht anrufen | Ne pas appeler | No llamar",
}

_REPEAT_SUFFIX: Final = re.compile(r"\s\(\d+\)$")  # how the reader renames repeated headers
_EXAMPLE_HEADERS: Final = "Email, First Name, Last Name, Company, Phone (or Vorname, Firma, E-Mail)"


def normalise_header(header: str) -> str:
    """Lower-case, strip accents, keep letters and digits only: "E-Mail" -> "email".

    Example:
        >>> normalise_header("  Straße / Nr. ")
        'strassenr'
    """
    decomposed = unicodedata.normalize("NFKD", header.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def _build_alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for field in INPUT_FIELDS:
        for spelling in (field, *_ALIASES.get(field, "").split("|")):
            key = normalise_header(spelling)
            if not key:
                continue
            if table.setdefault(key, field) != field:
                raise AssertionError(f"alias {spelling!r} maps to {table[key]} and {field}")
    return table


_ALIAS_TABLE: Final[dict[str, str]] = _build_alias_table()


@dataclass(frozen=True)
class HeaderMapping:
    """Which source column feeds which lead field.

    Attributes:
        fields: canonical field -> source column name.
        unmapped: source columns that map to no field (the caller keeps them in ``extra``);
            includes the ambiguous ones.
        ambiguous: source columns that mapped to a field already taken by an earlier column.
    """

    fields: dict[str, str]
    unmapped: tuple[str, ...]
    ambiguous: tuple[str, ...]


def _normalise_profile(profile: Mapping[str, str] | None) -> dict[str, str]:
    """Profile keys normalised like headers; unknown target fields fail as a ConfigError."""
    normalised: dict[str, str] = {}
    for header, field in (profile or {}).items():
        if field not in INPUT_FIELDS:
            raise ConfigError(
                f"Header mapping {header!r} -> {field!r} names an unknown lead field {field!r}.",
                key=header,
                hint=f"Allowed fields: {', '.join(INPUT_FIELDS)}.",
            )
        key = normalise_header(header)
        if normalised.setdefault(key, field) != field:
            raise ConfigError(
                f"Header mapping has two entries for {header!r} with different fields "
                f"({normalised[key]!r} and {field!r}).",
                key=header,
                hint="Headers are matched ignoring case, accents and punctuation; keep one entry.",
            )
    return normalised


def _field_for(header: str, profile: Mapping[str, str]) -> tuple[str | None, bool]:
    """(field, from_profile) for one header.

    A repeated header renamed by the reader ("Email (2)") resolves like the original, so that it
    is reported as ambiguous rather than silently unmapped.
    """
    key = normalise_header(header)
    if key in profile:
        return profile[key], True
    if key in _ALIAS_TABLE:
        return _ALIAS_TABLE[key], False
    base = _REPEAT_SUFFIX.sub("", header)
    return _field_for(base, profile) if base != header else (None, False)


def header_score(headers: Sequence[str], profile: Mapping[str, str] | None = None) -> int:
    """How many cells of a candidate header row are recognised lead headers.

    Used by :func:`transforms.reading.read_table` to find the header below a title or preamble.

    Example:
        >>> header_score(["Messe Berlin 2026 – Besucherliste"]), header_score(["Firma", "PLZ"])
        (0, 2)
    """
    normalised = _normalise_profile(profile)
    return sum(1 for header in headers if header and _field_for(header, normalised)[0])


def map_headers(headers: Sequence[str], profile: Mapping[str, str] | None = None) -> HeaderMapping:
    """Map source headers onto canonical lead fields.

    Profile entries claim their fields first, then built-in aliases fill the rest; within each,
    the first column wins and later columns for the same field are ambiguous (kept unmapped).

    Args:
        headers: the source column names in file order.
        profile: source header -> canonical field, from the source's config; matched ignoring
            case, accents and punctuation.

    Raises:
        ConfigError: the profile names a field that is not in ``INPUT_FIELDS``.
        IngestError: no header maps to any lead field.
    """
    normalised = _normalise_profile(profile)
    resolved = [(header, *_field_for(header, normalised)) for header in headers]
    fields: dict[str, str] = {}
    ambiguous: list[str] = []
    for tier in (True, False):  # profile matches first, then aliases
        for header, field, from_profile in resolved:
            if field is None or from_profile is not tier:
                continue
            if field in fields:
                ambiguous.append(header)
            else:
                fields[field] = header
    if not fields:
        shown = ", ".join(repr(h) for h in list(headers)[:8])
        raise IngestError(
            f"None of the columns ({shown}) maps to a lead field.",
            hint=f"Expected headers such as {_EXAMPLE_HEADERS}. If this source uses other names, "
            "add a header mapping profile for it in the config (source header = lead field).",
        )
    mapped = set(fields.values())
    unmapped = tuple(header for header in headers if header not in mapped)
    if ambiguous:
        log.info("columns %s repeat an already mapped field; kept in %s", ambiguous, EXTRA)
    ordered = {field: fields[field] for field in INPUT_FIELDS if field in fields}
    return HeaderMapping(ordered, unmapped, tuple(h for h in headers if h in set(ambiguous)))


# A JSON object member whose value is null, as written by ``struct.json_encode`` (compact, keys
# escaped). Inside a JSON string every quote is escaped, so `,"` and `{"` only occur at
# structure: the patterns cannot match inside a value.
_NULL_MEMBER: Final = r',"(?:[^"\\]|\\.)*":null'
_LEADING_NULL_MEMBER: Final = r'^\{"(?:[^"\\]|\\.)*":null,?'


def _json_object(positions: Sequence[int], *, drop_nulls: bool) -> pl.Expr:
    """JSON object text of the columns at ``positions`` per row, built by polars."""
    if not positions:
        return pl.lit(None, dtype=pl.String)
    encoded = pl.struct([pl.nth(i) for i in positions]).struct.json_encode()
    if not drop_nulls:
        return encoded
    encoded = encoded.str.replace_all(_NULL_MEMBER, "").str.replace(_LEADING_NULL_MEMBER, "{")
    return pl.when(encoded == "{}").then(None).otherwise(encoded)


def apply_mapping(frame: pl.DataFrame, mapping: HeaderMapping) -> pl.DataFrame:
    """Rename a raw frame onto the canonical input columns.

    Returns one String column per ``INPUT_FIELDS`` entry (null where unmapped), ``EXTRA`` (JSON
    object of the unmapped columns' non-null values, null when none), then ``SOURCE_ROW``,
    ``ROW_ERROR`` and ``RAW_LINE`` when present. The whole row as JSON is built only where it
    is needed, for rejected rows, by :func:`raw_records`.

    Example:
        >>> raw = pl.DataFrame({"E-Mail": ["a@b.de"], "Stand": ["B12"], "source_row": [1],
        ...                     "_row_error": [None]}, schema_overrides={"_row_error": pl.String})
        >>> out = apply_mapping(raw, map_headers(["E-Mail", "Stand"]))
        >>> out.select("email", "extra").row(0)
        ('a@b.de', '{"Stand":"B12"}')
    """
    # Source columns are addressed by position: pl.col("^ID.*$") would be a regex.
    position = {name: i for i, name in enumerate(frame.columns)}
    bookkeeping = [c for c in (SOURCE_ROW, ROW_ERROR, RAW_LINE) if c in position]
    unmapped = [position[c] for c in mapping.unmapped if c in position]
    inputs = [
        (pl.nth(position[mapping.fields[f]]) if f in mapping.fields else pl.lit(None))
        .cast(pl.String)
        .alias(f)
        for f in INPUT_FIELDS
    ]
    return frame.select(
        *inputs,
        _json_object(sorted(unmapped), drop_nulls=True).alias(EXTRA),
        *bookkeeping,
    )


def raw_records(frame: pl.DataFrame) -> pl.DataFrame:
    """``SOURCE_ROW`` and ``RAW_RECORD``: each row of a raw frame as a JSON object of all source
    columns as read (nulls included), keyed by the source headers.

    Example:
        >>> raw = pl.DataFrame({"E-Mail": ["a@b.de"], "source_row": [1]})
        >>> raw_records(raw).row(0)
        (1, '{"E-Mail":"a@b.de"}')
    """
    position = {name: i for i, name in enumerate(frame.columns)}
    source = [position[c] for c in frame.columns if c not in (SOURCE_ROW, ROW_ERROR, RAW_LINE)]
    return frame.select(pl.col(SOURCE_ROW), _json_object(source, drop_nulls=False).alias(RAW_RECORD))
