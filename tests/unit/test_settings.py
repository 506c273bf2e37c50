"""The CLI's settings from the environment: the user's secrets, read when asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from sreshow.errors import UsageError
from sreshow.settings import Settings


def test_a_secret_comes_from_the_variable_first_then_its_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file\n")
    from_file = Settings.from_env({"SRESHOW_ADMIN_TOKEN_FILE": str(token_file)})
    both = Settings.from_env(
        {"SRESHOW_ADMIN_TOKEN": "from-the-variable", "SRESHOW_ADMIN_TOKEN_FILE": str(token_file)}
    )
    assert from_file.admin_token() == "from-the-file"
    assert both.admin_token() == "from-the-variable"
    assert Settings.from_env({}).admin_token() is None
    assert Settings.from_env({}).slack_webhook_url() is None


def test_secrets_stay_out_of_the_repr() -> None:
    settings = Settings.from_env(
        {"SRESHOW_ADMIN_TOKEN": "t0ken-xyz", "SRESHOW_SLACK_WEBHOOK_URL": "https://h/s/secret-w"}
    )
    assert settings.slack_webhook_url() == "https://h/s/secret-w"
    assert "t0ken-xyz" not in repr(settings)
    assert "secret-w" not in repr(settings)


def test_an_unreadable_or_empty_secret_file_names_the_variable(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(UsageError) as missing:
        Settings.from_env(
            {"SRESHOW_SLACK_WEBHOOK_URL_FILE": str(tmp_path / "nope")}
        ).slack_webhook_url()
    with pytest.raises(UsageError) as blank:
        Settings.from_env({"SRESHOW_ADMIN_TOKEN_FILE": str(empty)}).admin_token()
    assert str(missing.value) == (
        f"SRESHOW_SLACK_WEBHOOK_URL_FILE={tmp_path / 'nope'}: cannot read it (No such file "
        "or directory); point it at a readable file holding the value, or unset it"
    )
    assert (
        str(blank.value)
        == f"SRESHOW_ADMIN_TOKEN_FILE={empty}: the file is empty; put the value in it"
    )


@pytest.mark.parametrize("url", ["hooks.slack.com/services/x", "ftp://h/x", "https:///no-host"])
def test_a_webhook_that_is_not_an_http_url_is_refused_without_repeating_it(url: str) -> None:
    with pytest.raises(UsageError) as refused:
        Settings.from_env({"SRESHOW_SLACK_WEBHOOK_URL": url}).slack_webhook_url()
    assert "SRESHOW_SLACK_WEBHOOK_URL" in str(refused.value)
    assert url not in str(refused.value)
