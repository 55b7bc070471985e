"""Alerts against real servers on 127.0.0.1: a webhook (tests/http_server.py) and an SMTP server
(aiosmtpd) receive the run's outcome; retries, refusals and secrets behave."""

from __future__ import annotations

import json
import logging
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from ops.alerts import AlertConfig, alert_for, notify, send_alert
from ops.exit_codes import ExitCode
from ops.nightly import Report
from ops.steps import Step, skipped
from tests.factories import rows_for, write_csv
from tests.http_server import FileServer, http_server
from tests.smtp_server import mail_server, self_signed_cert

HOOK = "/services/T000/B000/s3cr3tT0k3n"
ERROR = "1 of 8 datasets failed: inspections (no source file for inspections in /src)"
FAST = {"retry_delay": 0.01, "timeout": 5.0}


@pytest.fixture
def hook(tmp_path: Path) -> Iterator[FileServer]:
    """A webhook receiver on 127.0.0.1 that keeps what is posted to it."""
    with http_server(tmp_path) as server:
        yield server


def _report(code: ExitCode = ExitCode.PARTLY_FAILED) -> Report:
    step = Step("refresh", code, "7 published, 0 unchanged, 1 failed of 8 datasets", error=ERROR)
    return Report("nightly", [step, skipped("match", "an earlier step failed")], host="ops-host")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_alert_names_outcome_steps_error_and_next_move() -> None:
    alert = alert_for(_report())
    assert alert.subject == "Stormwater Watch nightly on ops-host: partly failed (exit 3)"
    text = alert.text()
    assert "refresh: partly failed — 7 published" in text
    assert "match: skipped — an earlier step failed" in text
    assert f"Error: {ERROR}" in text and "python cli.py status" in text


def test_webhook_receives_slack_json(hook: FileServer) -> None:
    config = AlertConfig(webhook_url=hook.url + HOOK, **FAST)
    (delivery,) = notify(config, _report())
    assert delivery.ok and delivery.attempts == 1
    (body,) = hook.posts(HOOK)
    payload = json.loads(body)
    assert payload["text"].startswith("Stormwater Watch nightly on ops-host: partly failed")
    assert ERROR in payload["text"]
    assert payload["blocks"][0]["text"]["text"] == alert_for(_report()).subject
    assert "inspections" in payload["blocks"][1]["text"]["text"]


def test_webhook_retries_server_errors(hook: FileServer) -> None:
    hook.fail(HOOK, 503, times=2)
    (delivery,) = notify(AlertConfig(webhook_url=hook.url + HOOK, **FAST), _report())
    assert delivery.ok and delivery.attempts == 3
    assert len(hook.posts(HOOK)) == 3


def test_webhook_refusal_is_not_retried_and_hides_the_token(hook: FileServer, caplog) -> None:
    hook.fail(HOOK, 404, times=None)
    caplog.set_level(logging.DEBUG, logger="ops")
    (delivery,) = notify(AlertConfig(webhook_url=hook.url + HOOK, **FAST), _report())
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error == f"{hook.url} answered HTTP 404"
    assert "s3cr3t" not in caplog.text


def test_unreachable_webhook_gives_up_after_three_tries(caplog) -> None:
    url = f"http://127.0.0.1:{_closed_port()}{HOOK}"
    caplog.set_level(logging.DEBUG, logger="ops")
    (delivery,) = notify(AlertConfig(webhook_url=url, **FAST), _report())
    assert not delivery.ok and delivery.attempts == 3
    assert "ConnectionError posting to http://127.0.0.1:" in (delivery.error or "")
    assert "s3cr3t" not in caplog.text and "s3cr3t" not in (delivery.error or "")


def test_successful_runs_send_nothing(hook: FileServer) -> None:
    config = AlertConfig(webhook_url=hook.url + HOOK, **FAST)
    for code in (ExitCode.UPDATED, ExitCode.NOTHING_CHANGED):
        assert notify(config, _report(code)) == []
    assert hook.posts(HOOK) == []


def test_mail_arrives_with_login() -> None:
    with mail_server(user="alerts", password="p@ss word") as server:
        config = AlertConfig(
            smtp_url=server.url("alerts:p%40ss%20word"),
            email_to=("ops@example.org", "oncall@example.org"),
            email_from="watch@example.org",
            **FAST,
        )
        (delivery,) = notify(config, _report())
    assert delivery.ok, delivery.error
    (mail,) = server.received
    assert server.handler.logins == ["alerts"]
    assert mail.rcpt_tos == ["ops@example.org", "oncall@example.org"]
    assert mail.mail_from == "watch@example.org"
    assert mail.message["Subject"] == "Stormwater Watch nightly on ops-host: partly failed (exit 3)"
    assert ERROR in mail.message.get_content()


def test_mail_over_starttls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed_cert(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test certificate
    with mail_server(user="alerts", password="pw", tls=tls) as server:
        config = AlertConfig(
            smtp_url=server.url("alerts:pw"), starttls=True, email_to=("ops@example.org",), **FAST
        )
        (delivery,) = send_alert(config, alert_for(_report()))
    assert delivery.ok, delivery.error
    (mail,) = server.received
    assert mail.tls and "partly failed" in mail.message["Subject"]


def test_wrong_password_is_one_try_and_never_shown(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="ops")
    with mail_server(user="alerts", password="right") as server:
        config = AlertConfig(
            smtp_url=server.url("alerts:Wr0ngPassw0rd"), email_to=("ops@example.org",), **FAST
        )
        (delivery,) = notify(config, _report())
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error == f"smtp://127.0.0.1:{server.port} answered 535"
    assert server.received == []
    assert "Wr0ngPassw0rd" not in caplog.text


def test_cli_alerts_on_a_partly_failed_refresh_and_keeps_its_code(
    hook: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    monkeypatch.setenv("STORMWATER_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("STORMWATER_ALERT_WEBHOOK", hook.url + HOOK)
    monkeypatch.setenv("STORMWATER_ALERT_EMAIL_TO", "ops@example.org")
    args = ["refresh", "--source", str(tmp_path / "src"), "--dataset", "violations"]
    with mail_server() as mail:
        monkeypatch.setenv("STORMWATER_SMTP_URL", mail.url())
        result = CliRunner().invoke(cli, [*args, "--dataset", "inspections"])
    assert result.exit_code == ExitCode.PARTLY_FAILED, result.output
    (body,) = hook.posts(HOOK)
    assert "inspections (no source file" in json.loads(body)["text"]
    (received,) = mail.received
    assert "refresh on " in received.message["Subject"]


def test_cli_exit_code_survives_a_refused_alert(
    hook: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook.fail(HOOK, 404, times=None)
    monkeypatch.setenv("STORMWATER_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("STORMWATER_ALERT_WEBHOOK", hook.url + HOOK)
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["refresh", "--source", str(tmp_path / "empty")])
    assert result.exit_code == ExitCode.FAILED, result.output
    assert len(hook.posts(HOOK)) == 1
    assert "s3cr3t" not in result.output
