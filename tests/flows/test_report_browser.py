"""`leadpipe report` opened in headless Chromium: it renders, the charts are there, no console errors.

Uses Selenium with the Debian chromium and chromium-driver packages (.ci/run installs them).
The screenshot is kept under the test's tmp_path (pytest keeps the last few runs).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app, sample_files
from tests.flows.chromium import check_page, chromium

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_the_checker_sees_errors(tmp_path: Path) -> None:
    """Guard against a vacuous pass: a page with a script error and a missing image is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><title>bad</title></head><body><img src="missing.png">'
                   "<script>console.error('boom'); undefinedFunction();</script></body></html>")
    with chromium() as driver:
        page = check_page(driver, bad)
    messages = " ".join(e["message"] for e in page.errors)
    assert "boom" in messages and "undefinedFunction" in messages and "missing.png" in messages
    assert page.svg_charts == 0


def test_a_missing_browser_fails_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without chromium/chromedriver the report tests fail (never skip) and say what to install."""
    import tests.flows.chromium as helper

    monkeypatch.setattr(helper.shutil, "which", lambda name: None if name == "chromedriver" else f"/usr/bin/{name}")
    with pytest.raises(pytest.fail.Exception, match=r"^chromedriver not found .*chromium-driver .*README.*\.ci/run"):
        with chromium():
            pass


@pytest.mark.usefixtures("prefect_harness")
def test_report_of_the_demo_warehouse_renders_in_chromium(tmp_path: Path, db_path: Path) -> None:
    result = runner.invoke(app, ["run", "--db", str(db_path), *sample_files()])
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "report.html"
    assert runner.invoke(app, ["report", "--db", str(db_path), "--out", str(out)]).exit_code == 0
    screenshot = tmp_path / "report.png"
    with chromium() as driver:
        page = check_page(driver, out, screenshot)
    assert page.errors == [], page.errors
    assert page.title == "leadpipe report"
    assert page.sections[:3] == ["Funnel: leads, MQLs, conversions", "Rejected rows by reason", "Duplicates"]
    assert {"Scores and grades", "Leads and conversions per rep", "Recent runs"} <= set(page.sections)
    # Funnel by source, by week, rejects, cluster sizes, scores, grades, reps: each a drawn chart.
    assert page.svg_charts >= 7
    assert "Purchased List" in page.text and "no_contact_channel" in page.text and "Largest clusters" in page.text
    assert page.height > 2000 and screenshot.stat().st_size > 50_000
