"""Web and e-mail domains: registrable domain of a website, domain of an e-mail, free-mail test.

The registrable domain ("eTLD+1": ``shop.acme.co.uk`` -> ``acme.co.uk``) comes from the Public
Suffix List as bundled in tldextract (ICANN section only, like tldextract's default
``include_psl_private_domains=False``: ``acme.github.io`` -> ``github.io``). The list is read
once, offline, into sets, and the lookup is vectorised: the host's last 1..5 labels are looked up
with ``is_in``, re-creating tldextract's walk over its suffix trie, wildcard (``*.ck``) and
exception (``!www.ck``) rules included. tests/transforms/test_domains.py checks agreement with
tldextract itself.
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


@dataclass(frozen=True)
class _SuffixRules:
    """The ICANN section of the Public Suffix List, as tldextract's trie sees it."""

    ends: frozenset[str]  # suffixes ("co.uk")
    nodes: frozenset[str]  # every label-suffix of a rule: the trie's nodes ("uk", "co.uk")
    wildcard_parents: frozenset[str]  # "ck" for "*.ck"
    exceptions: frozenset[str]  # "www.ck" for "!www.ck"
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
    ends, nodes, wildcard, exceptions = set(), set(), set(), set()
    for rule in rules:
        labels = rule.split(".")
        if rule.startswith("!"):
            exceptions.add(rule[1:])
        elif rule.startswith("*."):
            wildcard.add(rule[2:])
        else:
            ends.add(rule)
        # a host label walks into "!www" or "*" children only through the rules above
        first = 1 if labels[0].startswith(("!", "*")) else 0
        nodes.update(".".join(labels[i:]) for i in range(first, len(labels)))
    depth = max(r.count(".") + 1 for r in rules)
    logger.debug("public suffix list: %d suffixes, %d wildcards", len(ends), len(wildcard))
    return _SuffixRules(
        frozenset(ends), frozenset(nodes), frozenset(wildcard), frozenset(exceptions), depth
    )


def _host(url_or_host: pl.Expr) -> pl.Expr:
    """Lower-case host of a URL or bare host; null unless it looks like a domain name."""
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
    return pl.when(host.str.contains(_HOST_RE)).then(host)


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

    def last(k: int) -> pl.Expr:  # the host's last k labels
        return f("host").str.extract(rf"((?:[^.]+\.){{{k - 1}}}[^.]+)$")

    s = pl.struct(host=_host(url_or_host))
    s = s.struct.with_fields(
        n_labels=f("host").str.count_matches(r"\.") + 1,
        **{f"c{k}": last(k) for k in range(1, levels + 1)},
    )
    s = s.struct.with_fields(
        **{f"node{k}": f(f"c{k}").is_in(rules.nodes).fill_null(False) for k in range(1, levels + 1)}
    )
    reach = [pl.lit(True)]  # reach[k]: the walk got through the last k labels
    for k in range(1, levels + 1):
        reach.append(reach[-1] & f(f"node{k}"))
    # the walk's answer: stopping under a wildcard node decides at once ...
    suffix_len: pl.Expr = pl.lit(None, dtype=pl.Int64)
    for k in range(levels, 1, -1):
        stops_under_wildcard = (reach[k - 1] & ~f(f"node{k}") & (f("n_labels") >= k)) & f(
            f"c{k - 1}"
        ).is_in(rules.wildcard_parents)
        is_exception = f(f"c{k}").is_in(rules.exceptions)
        suffix_len = (
            pl.when(stops_under_wildcard)
            .then(pl.when(is_exception).then(k - 1).otherwise(k))
            .otherwise(suffix_len)
        )
    # ... otherwise the longest rule along the way
    longest_end: pl.Expr = pl.lit(None, dtype=pl.Int64)
    for k in range(1, levels + 1):
        is_end = reach[k] & f(f"c{k}").is_in(rules.ends).fill_null(False)
        longest_end = pl.when(is_end).then(k).otherwise(longest_end)
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
    domain = email.cast(pl.String).str.extract(r"@([^@]*)$").str.strip_chars().str.to_lowercase()
    return pl.when(domain.str.len_bytes() > 0).then(domain).alias("email_domain")


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
