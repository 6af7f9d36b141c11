"""`portfoliowise analyze`: the analysis use case offline on the bundled example, through
the in-process bus; the rule-based analyst answers and says the AI had no key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portfoliowise.handlers.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "portfoliowise" / "examples"
ARGS = [str(EXAMPLES / "portfolio.json"), "--quotes", str(EXAMPLES / "quotes.sample.json")]


@pytest.fixture(autouse=True)
def _no_ai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY_SECRET", raising=False)


def test_analyze_json_is_the_rule_based_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", *ARGS, "--json", "--language", "en"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["analyst"] == "rules"
    assert report["fallbackReason"] == "no_key"
    outcomes = {r["rule"]: r["outcome"] for r in report["rules"]}
    assert outcomes["largest_holding"] == "fail"  # the fund is about half of the example
    assert outcomes["volatility"] == "not_computed"  # a file has no history
    assert any(s["rule"] == "target_drift" for s in report["suggestions"])


def test_analyze_in_japanese_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", *ARGS]) == 0
    out = capsys.readouterr().out
    assert "largest_holding" in out
    assert "最大" in out or "評価額" in out


def test_analyze_of_a_missing_file_is_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["analyze", str(tmp_path / "nope.json")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("portfoliowise: error:")
