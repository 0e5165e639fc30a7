"""Web and e-mail domains: registrable domain of a website, domain of an e-mail, free-mail test.

The registrable domain ("eTLD+1": ``shop.acme.co.uk`` -> ``acme.co.uk``) comes from the Public
Suffix List as bundled in tldextract (ICANN section only, like tldextract's default
``include_psl_private_domains=False``: ``acme.github.io`` -> ``github.io``). The list is read
once, offline, into a dictionary, and the lookup is vectorised: the host's last 1..5 labels are
looked up, re-creating tldextract's walk over its suffix trie, wildcard (``*.ck``) and exception
(``!www.ck``) rules included. tests/transforms/test_domains.py checks agreement with tldextract
itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final

import polars as pl
import tldextract

logger = logging.getLogger(__name__)

_FREEMAIL_RESOURCE: Final = "data/freemail_domains.txt"
#: scheme ("https://") or protocol-relative "//", as tldextract's lenient URL parsing drops it
_SCHEME_RE: Final = r"^(?:[A-Za-z0-9+.\-]+:)?//"
#: a host name: dot-separated labels of letters (any script), digits, "-" and "_"
_HOST_RE: Final = r"^[\p{L}\p{M}\p{N}_-]+(?:\.[\p{L}\p{M}\p{N}_-]+)+$"
_NODE, _END, _WILDCARD, _EXCEPTION = 1, 2, 4, 8  # flags of a label-suffix in the suffix trie


@dataclass(frozen=True)
class _SuffixRules:
    """The ICANN section of the Public Suffix List, as tldextract's trie sees it."""

    #: label-suffix ("co.uk") -> _NODE (a trie node: the walk goes on), _END (a rule), _WILDCARD
    #: ("*.ck": any label under it is a suffix), _EXCEPTION ("!www.ck": "www.ck" is not)
    flags: dict[str, int]
    depth: int  # most labels in a rule


def _punycode(rule: str) -> str | None:
    """ASCII (xn--) spelling of a rule with non-ASCII labels, as hosts are often written."""
    try:
        return ".".join(
            label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
            for label in rule.split(".")
        )
    except UnicodeError:
        return None


@lru_cache(maxsize=1)
def _suffix_rules() -> _SuffixRules:
    # no suffix_list_urls and no cache: tldextract falls back to its bundled snapshot and never
    # touches the network or the disk
    extractor = tldextract.TLDExtract(
        cache_dir=None, suffix_list_urls=(), include_psl_private_domains=False
    )
    rules = [r.lower() for r in extractor.tlds]
    rules += [p for r in rules if not r.isascii() and (p := _punycode(r)) is not None]
    flags: dict[str, int] = {}

    def mark(suffix: str, flag: int) -> None:
        flags[suffix] = flags.get(suffix, 0) | flag

    for rule in rules:
        labels = rule.split(".")
        if rule.startswith("!"):
            mark(rule[1:], _EXCEPTION)
        elif rule.startswith("*."):
            mark(rule[2:], _WILDCARD)
        else:
            mark(rule, _END)
        # a host label walks into "!www" or "*" children only through the rules above
        first = 1 if labels[0].startswith(("!", "*")) else 0
        for i in range(first, len(labels)):
            mark(".".join(labels[i:]), _NODE)
    depth = max(r.count(".") + 1 for r in rules)
    logger.debug("public suffix list: %d rules", len(rules))
    return _SuffixRules(flags, depth)


def registrable_domain(url_or_host: pl.Expr) -> pl.Expr:
    """Registrable domain (eTLD+1) of a website value, lower-case.

    Follows tldextract (ICANN suffixes only): the public suffix is found by walking the host's
    labels from the right through the suffix list, honouring wildcard and exception rules, and
    the registrable domain is that suffix plus one more label.

    Args:
        url_or_host: website values: "https://www.Example.co.uk/about", "WWW.ACME.DE",
            "http://shop.acme.com:8080", "example.com".

    Returns:
        Utf8 expression: "example.co.uk", "acme.de", "acme.com"; null for empty or garbage
        values, IP addresses, hosts without a known public suffix and bare suffixes ("co.uk").

    Example:
        >>> df.select(registrable_domain(pl.col("website")))
    """
    rules = _suffix_rules()
    levels = rules.depth + 1  # the walk stops at the first label that is not a trie node
    f = pl.field
    host = (
        url_or_host.cast(pl.String)
        .str.strip_chars()
        .str.replace(_SCHEME_RE, "")
        .str.extract(r"^([^/?#]*)")  # the authority
        .str.replace(r"^.*@", "")  # user info
        .str.replace(r":.*$", "")  # port
        .str.strip_chars()
        .str.strip_chars_end(".")
        .str.to_lowercase()
    )
    s = pl.struct(host=host)
    s = s.struct.with_fields(
        labels=pl.when(f("host").str.contains(_HOST_RE)).then(f("host").str.split("."))
    )
    # c{k}: the host's last k labels; flag{k}: what the suffix trie says about them
    s = s.struct.with_fields(
        **{f"l{k}": f("labels").list.get(-k, null_on_oob=True) for k in range(1, levels + 1)}
    )
    s = s.struct.with_fields(c1=f("l1"))
    for k in range(2, levels + 1):
        s = s.struct.with_fields(
            **{f"c{k}": pl.concat_str(f(f"l{k}"), pl.lit("."), f(f"c{k - 1}"))}
        )
    s = s.struct.with_fields(
        **{
            f"flag{k}": f(f"c{k}").replace_strict(rules.flags, default=0, return_dtype=pl.UInt8)
            for k in range(1, levels + 1)
        }
    )

    def has(k: int, flag: int) -> pl.Expr:
        return (f(f"flag{k}") & flag) != 0

    reach = [pl.lit(True)]  # reach[k]: the walk got through the last k labels
    for k in range(1, levels + 1):
        reach.append(reach[-1] & has(k, _NODE))
    # the walk's answer: stopping under a wildcard node decides at once ...
    suffix_len: pl.Expr = pl.lit(None, dtype=pl.Int64)
    for k in range(levels, 1, -1):
        stops_under_wildcard = (
            reach[k - 1] & ~has(k, _NODE) & f(f"c{k}").is_not_null() & has(k - 1, _WILDCARD)
        )
        suffix_len = (
            pl.when(stops_under_wildcard)
            .then(pl.when(has(k, _EXCEPTION)).then(k - 1).otherwise(k))
            .otherwise(suffix_len)
        )
    # ... otherwise the longest rule along the way
    longest_end: pl.Expr = pl.lit(None, dtype=pl.Int64)
    for k in range(1, levels + 1):
        longest_end = pl.when(reach[k] & has(k, _END)).then(k).otherwise(longest_end)
    s = s.struct.with_fields(suffix_len=pl.coalesce(suffix_len, longest_end))
    registrable: pl.Expr = pl.lit(None, dtype=pl.String)
    for k in range(1, levels + 1):
        registrable = pl.when(f("suffix_len") == k - 1).then(f(f"c{k}")).otherwise(registrable)
    return s.struct.with_fields(out=registrable).struct.field("out").alias("registrable_domain")


def email_domain(email: pl.Expr) -> pl.Expr:
    """Domain of an e-mail address: the part after the last "@", lower-case.

    Args:
        email: e-mail addresses ("Jane.Doe@Example.COM").

    Returns:
        Utf8 expression: "example.com"; null if there is no "@" or nothing after it.

    Example:
        >>> df.select(email_domain(pl.col("email")))
    """
    after_last_at = r"@\s*([^@]*[^@\s])\s*$"  # no match (null) when nothing follows it
    return email.cast(pl.String).str.extract(after_last_at).str.to_lowercase().alias("email_domain")


def _load_freemail_domains() -> frozenset[str]:
    text = resources.files("transforms").joinpath(_FREEMAIL_RESOURCE).read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line)


#: Free-mail providers (transforms/data/freemail_domains.txt): an address there says nothing
#: about the lead's company.
FREEMAIL_DOMAINS: Final[frozenset[str]] = _load_freemail_domains()


def is_freemail(domain: pl.Expr) -> pl.Expr:
    """Whether a domain belongs to a free-mail provider (gmail.com, web.de, yahoo.co.uk...).

    Args:
        domain: e-mail domains, e.g. from :func:`email_domain` (case and spaces are ignored).

    Returns:
        Boolean expression; false for null domains.

    Example:
        >>> df.select(is_freemail(email_domain(pl.col("email"))))
    """
    normalised = domain.cast(pl.String).str.strip_chars().str.to_lowercase()
    return normalised.is_in(FREEMAIL_DOMAINS).fill_null(False).alias("is_freemail")
