"""The app's settings from the environment: defaults, parsing, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_app.config import AppConfig, Broken, ConfigError


def test_defaults_serve_locally_with_the_admin_api_off() -> None:
    config = AppConfig.from_env({"POD_NAME": "p"})
    assert (config.host, config.port) == ("127.0.0.1", 8000)
    assert config.admin_token is None
    assert config.broken is Broken.NO
    assert config.flaky_rate == 0.1
    assert config.instrumentation is True


def test_reads_every_variable() -> None:
    config = AppConfig.from_env(
        {
            "APP_VERSION": "2.0.0",
            "POD_NAME": "sre-app-abc",
            "APP_BROKEN": "Unready",
            "APP_FLAKY_RATE": "0.3",
            "APP_DRAIN_SECONDS": "4",
            "APP_GRACE_SECONDS": "12",
            "APP_INSTRUMENTATION": "off",
            "APP_ACCESS_LOG": "on",
            "APP_HOST": "0.0.0.0",
            "APP_PORT": "9000",
            "SRESHOW_ADMIN_TOKEN": "s3cret",
        }
    )
    assert config == AppConfig(
        version="2.0.0",
        pod_name="sre-app-abc",
        broken=Broken.UNREADY,
        flaky_rate=0.3,
        drain_seconds=4,
        grace_seconds=12,
        instrumentation=False,
        access_log=True,
        host="0.0.0.0",
        port=9000,
        admin_token="s3cret",
    )


def test_token_file_is_read_and_stripped(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("from-file\n")
    assert AppConfig.from_env({"SRESHOW_ADMIN_TOKEN_FILE": str(token)}).admin_token == "from-file"


def test_the_token_is_not_in_the_repr() -> None:
    assert "s3cret" not in repr(AppConfig.from_env({"SRESHOW_ADMIN_TOKEN": "s3cret"}))


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"APP_FLAKY_RATE": "1.5"}, "APP_FLAKY_RATE='1.5' is out of range"),
        ({"APP_FLAKY_RATE": "lots"}, "APP_FLAKY_RATE='lots' is not a number"),
        ({"APP_PORT": "80.5"}, "APP_PORT='80.5' is not a whole number"),
        ({"APP_PORT": "70000"}, "APP_PORT='70000' is out of range"),
        ({"APP_GRACE_SECONDS": "nan"}, "APP_GRACE_SECONDS='nan' is out of range"),
        ({"APP_INSTRUMENTATION": "maybe"}, "APP_INSTRUMENTATION='maybe' is not a switch"),
        ({"APP_BROKEN": "kaput"}, "APP_BROKEN='kaput' is not a known bad release"),
        ({"SRESHOW_ADMIN_TOKEN_FILE": "/nonexistent/token"}, "/nonexistent/token"),
    ],
)
def test_bad_values_are_named_with_the_fix(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError) as caught:
        AppConfig.from_env(env)
    assert names in str(caught.value)
    assert "\n" not in str(caught.value)
