from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from flows.config import ENV_CONFIG, ENV_DB, load_settings, parse_settings, settings_to_toml
from transforms.errors import ConfigError


def test_defaults_need_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_CONFIG, raising=False)
    monkeypatch.delenv(ENV_DB, raising=False)
    settings = load_settings()
    assert settings.warehouse.path == "leadpipe.duckdb"
    assert settings.ingest.default_region == "US"
    assert len(settings.routing.reps) >= 1


def test_unknown_key_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[ingest]\nmissing_compnay = 'reject'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert "ingest.missing_compnay" in str(info.value)
    assert "unknown setting" in str(info.value)


def test_bad_value_names_key_and_allowed_values() -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings({"ingest": {"missing_company": "maybe"}})
    assert info.value.key == "ingest.missing_company"
    assert "'reject'" in str(info.value) and "'not_provided'" in str(info.value)


def test_bad_region_and_rule_field() -> None:
    with pytest.raises(ConfigError, match="default_region"):
        parse_settings({"ingest": {"default_region": "Germany"}})
    with pytest.raises(ConfigError, match="unknown lead field 'shoe_size'"):
        parse_settings({"qualify": {"score_rules": [{"field": "shoe_size", "op": "gt", "value": 40, "points": 5}]}})
    with pytest.raises(ConfigError, match="needs a list"):
        parse_settings({"qualify": {"grade_rules": [{"field": "country", "op": "in", "value": "DE", "steps": 1}]}})


def test_a_bad_rule_is_named_by_its_position() -> None:
    ok = {"field": "title", "op": "contains", "value": "vp", "points": 10}
    with pytest.raises(ConfigError) as info:
        parse_settings({"qualify": {"score_rules": [ok, ok, {"field": "title", "op": "gt", "value": "big", "points": 1}]}})
    assert info.value.key == "qualify.score_rules[2]"
    assert "(entry 3)" in str(info.value) and "needs a number" in str(info.value)
    with pytest.raises(ConfigError, match=r"rules\[1\] \('b', entry 2\): assign_to 'nobody'"):
        parse_settings({"routing": {"rules": [{"name": "a", "assign_to": "inbound"}, {"name": "b", "assign_to": "nobody"}]}})
    with pytest.raises(ConfigError, match="cannot read 'form_name'"):
        parse_settings({"convert": {"criteria": [{"field": "form_name", "op": "eq", "value": "x"}]}})
    with pytest.raises(ConfigError, match="unknown target column 'owner_id'"):
        parse_settings({"convert": {"field_mapping": {"account": {"name": "company", "owner_id": "email"}}}})


def test_lifecycle_config_round_trips() -> None:
    data = {
        "routing": {
            "reps": [{"id": "ana", "weight": 2, "daily_cap": 5, "out_of_office": [{"start": "2026-12-20", "end": "2027-01-02"}]}, {"id": "ben"}],
            "queues": [{"id": "inbound", "members": ["ana", "ben"]}],
            "rules": [{"name": "big", "criteria": [{"field": "number_of_employees", "op": "gte", "value": 1000}], "assign_to": "ana"}],
            "default_owner": "inbound",
        },
        "convert": {"amount_rules": [{"field": "grade", "op": "in", "value": ["A", "A+"], "amount": 25000.0}], "default_amount": 1000.0},
    }
    settings = parse_settings(data)
    assert parse_settings(tomllib.loads(settings_to_toml(settings))) == settings


def test_mapping_profile_must_name_known_fields() -> None:
    with pytest.raises(ConfigError, match="unknown lead field"):
        parse_settings({"ingest": {"sources": [{"pattern": "*hubspot*", "columns": {"Mail": "e_mail"}}]}})


def test_env_and_flag_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[warehouse]\npath = 'from_file.duckdb'\n")
    monkeypatch.setenv(ENV_CONFIG, str(cfg))
    assert load_settings().warehouse.path == "from_file.duckdb"
    monkeypatch.setenv(ENV_DB, "from_env.duckdb")
    assert load_settings().warehouse.path == "from_env.duckdb"
    assert load_settings(db="flag.duckdb").warehouse.path == "flag.duckdb"


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[ingest\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


def test_source_rules_match_the_file_name_and_a_path_only_when_asked() -> None:
    """``*form*`` is about the file's name: a folder named ``platform`` or ``forms`` does not make
    every file in it a web form; a pattern with a ``/`` matches the path (``*/tradeshows/*``)."""
    settings = parse_settings({"ingest": {"sources": [{"pattern": "*/TradeShows/*", "kind": "trade_show"},
                                                      {"pattern": "imports\\purchased/*.csv", "kind": "bulk"},
                                                      {"pattern": "/srv/expo/*", "kind": "trade_show"}]}}).ingest
    kind = {path: (rule.kind if (rule := settings.rule_for(path)) else None) for path in [
        "/data/platform/list.csv", "/data/forms/contacts.csv", "/data/in/web_FORM_2026.csv", "/data/in/leads.jsonl",
        "/data/tradeshows/day1.csv", "C:\\Data\\TradeShows\\day2.csv", "/data/in/leads.csv",
        "/data/imports/purchased/web_form.csv", "/data/myimports/purchased/x.csv", "/srv/expo/a.csv", "/data/srv/expo/a.csv",
    ]}
    assert kind == {
        "/data/platform/list.csv": None, "/data/forms/contacts.csv": None, "/data/in/web_FORM_2026.csv": "form",
        "/data/in/leads.jsonl": "form", "/data/tradeshows/day1.csv": "trade_show", "C:\\Data\\TradeShows\\day2.csv": "trade_show",
        "/data/in/leads.csv": None,
        # a relative path pattern ends the path (whole folder names), an absolute one is the path
        "/data/imports/purchased/web_form.csv": "bulk", "/data/myimports/purchased/x.csv": None,
        "/srv/expo/a.csv": "trade_show", "/data/srv/expo/a.csv": None,
    }


def test_a_dedup_field_no_run_reads_is_refused_when_the_file_is_loaded() -> None:
    """A typo in a blocking part or a comparison's field would make no key or compare nothing, and
    pairs not made then are never made later: refused before any file is read."""
    with pytest.raises(ConfigError) as caught:
        parse_settings({"dedup": {"blocking_rules": [{"name": "email", "parts": ["emial:canonical_email"]}]}})
    assert "dedup.blocking_rules[0] (email): unknown field in 'emial:canonical_email'" in caught.value.message
    assert "a dedup run reads first_name" in caught.value.message
    # a validator's message reads without pydantic's "Value error, " before it
    with pytest.raises(ConfigError) as caught:
        parse_settings({"dedup": {"survivorship": {"fields": {"city": "oldest"}}}})
    assert caught.value.message.endswith("dedup.survivorship.fields: 'city' is chosen together with 'street' "
                                         "(street, city, state, postal_code, country): set the rule on 'street'")
    # with matching turned off, nothing reads them
    assert not parse_settings({"dedup": {"enabled": False, "comparisons": [{"name": "x", "kind": "string", "field": "x"}],
                                         "must_link": [], "cannot_link": []}}).dedup.enabled


def test_a_source_pattern_is_a_name_or_a_folder_of_absolute_paths() -> None:
    """Files are named by their absolute path: './expo/*' means 'expo/*'; '../expo/*' and '~/expo/*'
    could never match one, so they are refused."""
    rule = parse_settings({"ingest": {"sources": [{"pattern": "./expo/*", "kind": "trade_show"}]}}).ingest.sources[0]
    assert rule.pattern == "expo/*" and rule.matches("/data/expo/day1.csv")
    for pattern in ("../expo/*", "~/expo/*", "/data/in/../expo/*", "..\\expo\\*"):
        with pytest.raises(ConfigError, match="files are named by their absolute path"):
            parse_settings({"ingest": {"sources": [{"pattern": pattern, "kind": "trade_show"}]}})


def test_shown_config_round_trips() -> None:
    settings = parse_settings({"ingest": {"sources": [{"pattern": "*expo*", "kind": "trade_show", "columns": {"Mail": "email"}}]}})
    text = settings_to_toml(settings)
    assert parse_settings(tomllib.loads(text)) == settings


def test_readme_configuration_example_is_valid() -> None:
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    example = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert example is not None
    settings = parse_settings(tomllib.loads(example.group(1)))
    assert settings.ingest.default_region == "DE"
    assert settings.ingest.sources[0].columns == {"Mail": "email", "Org": "company"}
    assert settings.routing.rules[0].assign_to == "rep_ana" and settings.routing.reps[0].weight == 2
