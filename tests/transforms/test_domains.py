"""Domains: registrable_domain agrees with tldextract (offline, ICANN only); e-mail helpers."""

from __future__ import annotations

import random

import polars as pl
import pytest
import tldextract
from polars.testing import assert_frame_equal, assert_series_equal

from transforms.domains import (
    FREEMAIL_DOMAINS,
    email_domain,
    is_freemail,
    registrable_domain,
)

EXTRACTOR = tldextract.TLDExtract(
    cache_dir=None, suffix_list_urls=(), include_psl_private_domains=False
)
NAMES = [
    "acme", "globex", "initech", "umbrella", "stark-industries", "wayne", "hooli", "vandelay",
    "soylent", "tyrell", "cyberdyne", "wonka", "oceanic", "aperture", "blue-sun", "massive",
    "dunder-mifflin", "pied-piper", "bluth", "krusty", "sterling-cooper", "nakatomi", "monarch",
    "müller-gmbh", "société", "xn--mller-kva", "a1", "42labs", "b2b-hub", "mail",
]  # fmt: skip
SUFFIXES = [
    "com", "net", "org", "io", "ai", "co", "de", "fr", "nl", "es", "it", "ch", "at", "be", "se",
    "co.uk", "org.uk", "ac.uk", "com.au", "net.au", "co.jp", "ne.jp", "co.nz", "com.br", "com.mx",
    "co.za", "co.in", "com.sg", "com.hk", "com.cn", "gov.uk", "tokyo.jp", "kawasaki.jp", "ck",
    "github.io", "herokuapp.com", "blogspot.com", "appspot.com", "s3.amazonaws.com",
    "cloudfront.net", "myshopify.com", "pages.dev", "vercel.app", "bar.ck", "city.kawasaki.jp",
    "中国", "xn--fiqs8s", "рф", "unknowntld", "local", "co.uk.", "COM",
]  # fmt: skip
SUBDOMAINS = ["", "www.", "shop.", "mail.", "eu.shop.", "a.b.c.", "WWW."]
SHAPES = [
    "{h}", "https://{h}", "http://{h}/", "https://{h}/about?x=1#top", "http://{h}:8080",
    "//{h}/x", "HTTPS://{H}", "ftp://user:pw@{h}:21/pub", " {h} ", "{h}/index.html",
]  # fmt: skip


def _tldextract(value: str) -> str | None:
    result = EXTRACTOR(value).top_domain_under_public_suffix
    return result.lower() or None


def _hosts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        host = rng.choice(SUBDOMAINS) + rng.choice(NAMES) + "." + rng.choice(SUFFIXES)
        out.append(rng.choice(SHAPES).format(h=host, H=host.upper()))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_agrees_with_tldextract_on_realistic_websites(seed: int) -> None:
    values = _hosts(3000, seed)
    got = pl.DataFrame({"w": values}).select(registrable_domain(pl.col("w"))).to_series()
    expected = pl.Series([_tldextract(v) for v in values], dtype=pl.String)
    mismatches = [(v, g, e) for v, g, e in zip(values, got, expected, strict=True) if g != e]
    assert not mismatches, mismatches[:20]


def test_agrees_with_tldextract_on_every_public_suffix_rule() -> None:
    """Each ICANN rule (wildcards and exceptions too) under a label or two."""
    rng = random.Random(3)
    values = []
    for rule in EXTRACTOR.tlds:
        base = rule.lstrip("!").replace("*", rng.choice(["x", "city", "www"]))
        values += [base, f"acme.{base}", f"www.acme.{base}"]
    got = pl.DataFrame({"w": values}).select(registrable_domain(pl.col("w"))).to_series()
    mismatches = [(v, g, e) for v, g in zip(values, got, strict=True) if g != (e := _tldextract(v))]
    assert not mismatches, mismatches[:20]


def test_literal_cases() -> None:
    values = [
        "https://www.Example.co.uk/about", "example.com", "WWW.ACME.DE",
        "http://shop.acme.com:8080", "acme.github.io", "", None, "n/a", "192.168.0.1",
        "http://[2001:db8::1]/", "co.uk", "localhost", "not a url", "acme.com.au",
    ]  # fmt: skip
    expected = [
        "example.co.uk", "example.com", "acme.de", "acme.com", "github.io", None, None, None,
        None, None, None, None, None, "acme.com.au",
    ]  # fmt: skip
    got = pl.DataFrame({"w": values}, schema={"w": pl.String}).select(
        registrable_domain(pl.col("w"))
    )
    assert_frame_equal(
        got,
        pl.DataFrame({"registrable_domain": expected}, schema={"registrable_domain": pl.String}),
    )


def test_email_domain() -> None:
    emails = ["Jane.Doe@Example.COM", "odd@name@Gmail.com ", "no-at-sign", None, "trailing@", ""]
    got = pl.Series(emails, dtype=pl.String).to_frame("e").select(email_domain(pl.col("e")))
    expected = pl.Series("email_domain", ["example.com", "gmail.com", None, None, None, None])
    assert_series_equal(got.to_series(), expected, check_dtypes=False)


def test_is_freemail() -> None:
    domains = ["gmail.com", "GMAIL.com ", "web.de", "yahoo.co.uk", "acme.com", None]
    got = pl.Series(domains, dtype=pl.String).to_frame("d").select(is_freemail(pl.col("d")))
    assert got.to_series().to_list() == [True, True, True, True, False, False]


def test_freemail_list() -> None:
    assert len(FREEMAIL_DOMAINS) >= 80
    required = {
        "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com",
        "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "gmx.de", "gmx.net", "gmx.at",
        "gmx.ch", "web.de", "t-online.de", "freenet.de", "mail.ru", "yandex.ru", "proton.me",
        "protonmail.com", "zoho.com", "qq.com", "163.com", "126.com", "orange.fr", "free.fr",
        "laposte.net", "libero.it", "virgilio.it", "btinternet.com", "comcast.net",
    }  # fmt: skip
    assert required <= FREEMAIL_DOMAINS
    assert all(d == d.strip().lower() and "." in d and " " not in d for d in FREEMAIL_DOMAINS)
