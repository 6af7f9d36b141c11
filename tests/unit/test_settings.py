"""One `Settings` reads the whole environment, once: no other product module reads it;
the mode and the dev login are decided there only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portfoliowise.handlers.settings import AuthSettings, Settings, SettingsError

SRC = Path(__file__).resolve().parents[2] / "src" / "portfoliowise"
READS_ENV = re.compile(r"\bos\.environ\b|\bgetenv\(|\benviron\.get\(")


def test_no_module_but_settings_reads_the_environment() -> None:
    readers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if READS_ENV.search(path.read_text(encoding="utf-8"))
    )
    assert readers == ["handlers/settings.py"]


def test_every_variable_of_the_readme_table_is_read_by_settings() -> None:
    readme = (SRC.parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)`", table, flags=re.MULTILINE))
    source = (SRC / "handlers" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'"([A-Z][A-Z_]+)"', source)) - {"JPY"}
    assert documented == read


def test_inside_lambda_the_mode_is_aws_and_there_is_no_dev_login() -> None:
    inside = Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "pw-auth", "DEV_LOGIN": "1"})
    assert inside.mode == "aws"
    assert inside.inside_lambda
    assert inside.auth.dev_login is False
    assert Settings.from_env({"DEV_LOGIN": "yes"}).auth.dev_login is True
    assert Settings.from_env({}).mode == "local"


@pytest.mark.parametrize(
    "environ",
    [
        {"PORTFOLIOWISE_MODE": "cloud"},
        {"MAX_BODY_BYTES": "lots"},
        {"MAX_BODY_BYTES": "0"},
        {"SIGN_IN_MAX_FAILURES": "-1"},
    ],
)
def test_a_value_the_product_cannot_use_stops_the_start(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(environ)


def test_older_spellings_are_read_too() -> None:
    auth = AuthSettings.from_env(
        {
            "GOOGLE_CLIENT_SECRET_ARN": "arn:g",
            "SESSION_SIGNING_SECRET_ARN": "arn:s",
            "SESSION_TOKEN_KEY_ARN": "arn:k",
            "CLIENT_IP_HEADER": "CloudFront-Viewer-Address",
            "DATA_DIR": "/tmp/x",
        }
    )
    assert (auth.google_client_secret_name, auth.signing_secret_name, auth.kms_key_id) == (
        "arn:g",
        "arn:s",
        "arn:k",
    )
    assert auth.trusted_ip_header == "CloudFront-Viewer-Address"
    assert str(auth.data_dir) == "/tmp/x"
