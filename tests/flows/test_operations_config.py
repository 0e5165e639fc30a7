"""[inbox] and [schedule]: typed, validated, shown by `config show`, and turned into deployments."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from flows.config import parse_settings, settings_to_toml
from flows.operations import build_deployments, import_files
from transforms.errors import ConfigError, LeadpipeError


def test_operations_settings_round_trip_through_config_show() -> None:
    settings = parse_settings({
        "inbox": {"path": "/data/inbox", "poll_seconds": 30, "stable_seconds": 10, "max_attempts": 3, "ignore": [".*", "*.part"]},
        "schedule": {"import_path": "/data/exports/*.csv", "import_cron": "30 1 * * 1-5", "timezone": "Europe/Berlin",
                     "import_kind": "bulk", "serve_inbox": False, "lock_wait_seconds": 600},
    })
    text = settings_to_toml(settings)
    assert "[inbox]" in text and "[schedule]" in text
    assert parse_settings(tomllib.loads(text)) == settings


@pytest.mark.parametrize(("data", "key"), [
    ({"schedule": {"import_cron": "every night"}}, "schedule.import_cron"),
    ({"schedule": {"timezone": "Mars/Olympus"}}, "schedule.timezone"),
    ({"schedule": {"import_kind": "webinar"}}, "schedule.import_kind"),
    ({"inbox": {"poll_seconds": 0}}, "inbox.poll_seconds"),
    ({"inbox": {"max_attempts": 0}}, "inbox.max_attempts"),
    ({"inbox": {"pol_seconds": 5}}, "inbox.pol_seconds"),
])
def test_bad_operations_settings_name_the_key(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(data)
    assert info.value.key == key


def test_deployments_from_settings(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    settings = parse_settings({"warehouse": {"path": str(tmp_path / "wh.duckdb")}, "inbox": {"path": str(inbox), "poll_seconds": 15},
                               "schedule": {"import_path": str(tmp_path / "*.csv"), "import_cron": "0 3 * * *"}})
    deployments = {d.name: d for d in build_deployments(settings, None)}
    assert set(deployments) == {"nightly-import", "inbox-poll"}
    assert deployments["nightly-import"].schedules[0].schedule.cron == "0 3 * * *"
    assert deployments["inbox-poll"].schedules[0].schedule.interval.total_seconds() == 15
    assert deployments["inbox-poll"].parameters["inbox"] == str(inbox)
    assert Path(deployments["nightly-import"].parameters["db"]).is_absolute()

    with pytest.raises(ConfigError, match="nothing to serve"):
        build_deployments(parse_settings({"schedule": {"serve_inbox": False}}), None)
    with pytest.raises(LeadpipeError, match="does not exist"):
        build_deployments(parse_settings({"inbox": {"path": str(tmp_path / "missing")}}), None)


def test_import_files_expands_globs_and_skips_hidden_and_partial(tmp_path: Path) -> None:
    for name in ("b.csv", "a.csv", ".hidden.csv", "c.csv.part"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.csv").write_text("x")
    assert [Path(p).name for p in import_files(str(tmp_path / "*.csv*"))] == ["a.csv", "b.csv"]
    assert [Path(p).name for p in import_files(str(tmp_path / "**" / "*.csv"))] == ["a.csv", "b.csv", "d.csv"]
