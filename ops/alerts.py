"""Alerts for runs that need a person: a Slack-compatible webhook and/or an email.

Sent when a run ends failed, partly failed or locked out (`ALERT_CODES`) and a channel is
configured. Each channel has a timeout and a few retries for transient trouble (connection
errors, HTTP 5xx/429, SMTP 4xx) and gives up at once on a permanent refusal. An alert that
cannot be delivered is logged and reported, never raised: the run's own exit code is what
schedulers act on. Webhook URLs carry their secret in the path and SMTP URLs a password, so
messages and logs name only scheme, host and port.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import SplitResult, unquote, urlsplit

import requests

from data_layer.settings import Settings
from ops.exit_codes import ALERT_CODES, MEANINGS
from ops.nightly import Report

log = logging.getLogger(__name__)

#: Slack's limits: header text and section text lengths.
HEADER_LIMIT, SECTION_LIMIT = 150, 3000
#: Default ports by SMTP URL scheme (smtps: TLS from the first byte).
SMTP_PORTS = {"smtp": 25, "smtps": 465}
#: HTTP statuses worth trying again.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class AlertConfig:
    """Where alerts go, and how hard to try."""

    webhook_url: str | None = field(default=None, repr=False)
    smtp_url: str | None = field(default=None, repr=False)
    starttls: bool = False
    email_to: tuple[str, ...] = ()
    email_from: str | None = None
    timeout: float = 10.0
    attempts: int = 3
    retry_delay: float = 2.0

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertConfig:
        """The alert channels configured in the environment."""
        return cls(
            webhook_url=settings.alert_webhook,
            smtp_url=settings.smtp_url,
            starttls=settings.smtp_starttls,
            email_to=settings.alert_email_to,
            email_from=settings.alert_email_from,
        )

    @property
    def email(self) -> bool:
        """True when both an SMTP server and recipients are set."""
        return bool(self.smtp_url and self.email_to)


@dataclass(frozen=True)
class Alert:
    """What a person needs to hear: a subject and a few lines."""

    subject: str
    lines: tuple[str, ...]

    def text(self) -> str:
        return "\n".join((self.subject, "", *self.lines))


@dataclass(frozen=True)
class Delivery:
    """How sending on one channel went."""

    channel: str
    ok: bool
    attempts: int
    error: str | None = None


def alert_for(report: Report) -> Alert:
    """The alert for a run: the outcome in the subject, one line per step, the next move."""
    code = report.code
    subject = (
        f"Stormwater Watch {report.job} on {report.host}: "
        f"{code.name.lower().replace('_', ' ')} (exit {int(code)})"
    )
    lines = [f"Started {report.started}; {MEANINGS[code]}."]
    lines += [step.line() for step in report.steps]
    failed = report.failed_step
    if failed is not None and failed.error and failed.error != failed.summary:
        lines.append(f"Error: {failed.error}")
    lines.append(f"Next: run `python cli.py status` on {report.host}; the log has the details.")
    return Alert(subject, tuple(" ".join(line.split()) for line in lines))


def notify(config: AlertConfig, report: Report) -> list[Delivery]:
    """Send the run's alert on every configured channel when its code calls for one."""
    if report.code not in ALERT_CODES:
        return []
    return send_alert(config, alert_for(report))


def send_alert(config: AlertConfig, alert: Alert) -> list[Delivery]:
    """Send `alert` on every configured channel; failures are logged and returned, not raised."""
    deliveries = []
    if config.webhook_url:
        deliveries.append(post_webhook(config, alert))
    if config.email:
        deliveries.append(send_email(config, alert))
    for d in deliveries:
        if d.ok:
            log.info("alert sent by %s", d.channel, extra={"event": "alert_sent"})
        else:
            log.error("alert by %s not delivered: %s", d.channel, d.error)
    return deliveries


def slack_payload(alert: Alert) -> dict[str, object]:
    """Slack-compatible JSON: `text` for any webhook, plus header and section blocks."""
    body = "\n".join(alert.lines)
    return {
        "text": alert.text(),
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": alert.subject[:HEADER_LIMIT]},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": body[:SECTION_LIMIT]}},
        ],
    }


def endpoint(url: str) -> str:
    """scheme://host:port of a URL, without user, password, path or query (which hold secrets)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}"


def post_webhook(
    config: AlertConfig, alert: Alert, session: requests.Session | None = None
) -> Delivery:
    """POST the alert as Slack-compatible JSON, retrying transient failures."""
    url = config.webhook_url or ""
    http = session or requests.Session()

    def attempt() -> str | None:
        try:
            resp = http.post(url, json=slack_payload(alert), timeout=config.timeout)
        except requests.RequestException as exc:
            raise _Transient(f"{type(exc).__name__} posting to {endpoint(url)}") from None
        if resp.status_code in RETRY_STATUSES:
            raise _Transient(f"{endpoint(url)} answered HTTP {resp.status_code}")
        return None if resp.ok else f"{endpoint(url)} answered HTTP {resp.status_code}"

    return _with_retries("webhook", config, attempt)


def send_email(config: AlertConfig, alert: Alert) -> Delivery:
    """Mail the alert through the SMTP server in `smtp_url`, retrying transient failures."""
    url = urlsplit(config.smtp_url or "")
    where = endpoint(config.smtp_url or "")
    if url.scheme not in SMTP_PORTS:
        return Delivery(
            "email", False, 0, "STORMWATER_SMTP_URL must start with smtp:// or smtps://"
        )
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = config.email_from or f"stormwater-watch@{socket.getfqdn()}"
    message["To"] = ", ".join(config.email_to)
    message.set_content(alert.text())

    def attempt() -> str | None:
        try:
            _smtp_send(config, url, message)
        except smtplib.SMTPResponseException as exc:
            text = f"{where} answered {exc.smtp_code}"
            if 400 <= exc.smtp_code < 500:
                raise _Transient(text) from None
            return text
        except smtplib.SMTPRecipientsRefused:
            return f"{where} refused every recipient"
        except smtplib.SMTPNotSupportedError as exc:
            return f"{where}: {exc}"
        except (smtplib.SMTPException, OSError) as exc:
            raise _Transient(f"{type(exc).__name__} talking to {where}") from None
        return None

    return _with_retries("email", config, attempt)


def _smtp_send(config: AlertConfig, url: SplitResult, message: EmailMessage) -> None:
    """One delivery attempt: connect (TLS or STARTTLS as asked), log in if a user is given, send."""
    port = url.port or SMTP_PORTS[url.scheme]
    context = ssl.create_default_context()
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            url.hostname or "", port, timeout=config.timeout, context=context
        )
    else:
        client = smtplib.SMTP(url.hostname or "", port, timeout=config.timeout)
    with client:
        if config.starttls and url.scheme == "smtp":
            client.starttls(context=context)
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


class _Transient(Exception):
    """A failure worth another try; its message is safe to show."""


def _with_retries(channel: str, config: AlertConfig, attempt: Callable[[], str | None]) -> Delivery:
    """Call `attempt` until it returns (None: sent; text: a permanent failure) or tries run out."""
    error = None
    for n in range(1, config.attempts + 1):
        try:
            error = attempt()
        except _Transient as exc:
            error = str(exc)
            log.warning(
                "alert by %s, attempt %d of %d failed: %s", channel, n, config.attempts, error
            )
            if n < config.attempts:
                time.sleep(config.retry_delay * n)
            continue
        return Delivery(channel, error is None, n, error)
    return Delivery(channel, False, config.attempts, error)
