"""Files an attacker (or a broken export) could hand the CLI: JSON nested 10,000 deep, a
number of 5,000 digits, bytes that are not UTF-8. One line on stderr, exit code 2, nothing
on stdout: the same rules as the API's bodies."""

from __future__ import annotations

from pathlib import Path

import pytest

from portfoliowise.handlers.cli import main


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"name": ' + "[" * 10_000 + "]" * 10_000 + "}", "nested deeper than 32"),
        ('{"name": ' + "9" * 5000 + "}", "number is too long"),
        (b'{"name": "\xff\xfe"}', "not UTF-8"),
    ],
)
@pytest.mark.parametrize("command", ["value", "simulate"])
def test_a_hostile_file_is_one_error_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes,
    says: str,
    command: str,
) -> None:
    path = tmp_path / "portfolio.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    argv = [command, str(path)] + (["--budget", "1000JPY"] if command == "simulate" else [])
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("portfoliowise: error: ")
    assert says in err
