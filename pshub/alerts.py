"""Webhook alerts (Slack-compatible JSON: `text` plus `blocks`) after each hub cycle.

Configured from the environment; the webhook URL is a secret (it authorises posting) and never reaches a
log line, an exception or the warehouse:

  PSHUB_ALERT_WEBHOOK_URL            where to POST (a Slack incoming webhook, or anything that takes its JSON)
  PSHUB_ALERT_ON_FAILED_RUN          alert when a cycle fails or finishes partially (default true)
  PSHUB_ALERT_MAX_OPEN_EXCEPTIONS    alert when open sync failures exceed this count (holds not counted; default: off)
  PSHUB_ALERT_MAX_MONEY_AT_STAKE     alert when SLA-breached money at stake (reporting currency) exceeds it (off)
  PSHUB_ALERT_REPEAT_HOURS           a threshold alert repeats only after this long, or when its figure grows (24)

Every alert sent or attempted is recorded in ops.alerts (without the URL).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from pshub.settings import get_settings
from pshub.warehouse import connect

log = logging.getLogger("pshub.alerts")


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PSHUB_ALERT_", extra="ignore")

    webhook_url: SecretStr | None = None
    on_failed_run: bool = True
    max_open_exceptions: int | None = None
    max_money_at_stake: float | None = None
    repeat_hours: float = 24.0
    timeout_seconds: float = 10.0


@dataclass
class Alert:
    kind: str            # run_failed | run_partial | exceptions | money_at_stake | test
    title: str
    lines: list[str]
    run_id: str | None = None
    value: float | None = None

    def payload(self) -> dict:
        text = f"{self.title}\n" + "\n".join(self.lines)
        blocks = [{"type": "header", "text": {"type": "plain_text", "text": self.title[:150]}},
                  {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(self.lines)[:2900] or " "}}]
        if self.run_id:
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"run `{self.run_id}` · `pshub status` for details"}]})
        return {"text": text, "blocks": blocks}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def evaluate(summary: dict, config: AlertSettings) -> list[Alert]:
    """The alerts a finished cycle calls for (before de-duplication)."""
    run_id, status = summary.get("run_id"), summary.get("status")
    totals = summary.get("totals") or {}
    currency = totals.get("reporting_currency") or get_settings().reporting_currency
    alerts: list[Alert] = []
    if config.on_failed_run and status in ("failed", "partial"):
        why = list(summary.get("problems") or summary.get("errors") or [])
        why += [f"sync {s['sync']} {s['status']}: {s.get('reason', '')}" for s in summary.get("syncs") or []
                if s.get("status") in ("blocked", "failed")]
        alerts.append(Alert(f"run_{status}", f"pshub cycle {status}: {run_id}",
                            [f"• {w[:300]}" for w in why[:15]] or ["• see `pshub status`"], run_id))
    # failures only: holds wait for someone to act in a source system, and a clean firm has hundreds of them
    open_failures = totals.get("open_failures")
    if config.max_open_exceptions is not None and open_failures is not None \
            and open_failures > config.max_open_exceptions:
        alerts.append(Alert("exceptions", f"pshub: {open_failures} open sync failures",
                            [f"Open sync failures {open_failures} > threshold {config.max_open_exceptions} "
                             f"({totals.get('new_failures', 0)} new in this cycle; the "
                             f"{totals.get('open_holds', 0)} records held back by business rules are not counted, "
                             f"{totals.get('new_holds', 0)} of them new)."], run_id, float(open_failures)))
    stake = totals.get("money_at_stake")
    if config.max_money_at_stake is not None and stake is not None and stake > config.max_money_at_stake:
        alerts.append(Alert("money_at_stake", f"pshub: {_fmt(stake)} {currency} at stake past SLA",
                            [f"Money held by records stuck past their SLA: {_fmt(stake)} {currency} "
                             f"> threshold {_fmt(config.max_money_at_stake)} {currency} "
                             f"({totals.get('sla_breached', 0)} records)."], run_id, float(stake)))
    return alerts


def _due(conn, alert: Alert, repeat_hours: float) -> bool:
    """Failures always; a threshold alert when none was delivered recently, or its figure grew since."""
    if alert.kind.startswith("run_") or alert.kind == "test":
        return True
    last = conn.execute("""select value, sent_at > now() - make_interval(secs => %s) from ops.alerts
                           where kind = %s and delivered order by sent_at desc limit 1""",
                        (repeat_hours * 3600, alert.kind)).fetchone()
    return last is None or not last[1] or (alert.value is not None and last[0] is not None and alert.value > float(last[0]))


def send(alert: Alert, config: AlertSettings, conn=None) -> bool:
    """POST one alert; True when the receiver accepted it. Recorded in ops.alerts either way."""
    if config.webhook_url is None:
        return False
    delivered, error = False, None
    try:
        response = httpx.post(config.webhook_url.get_secret_value(), json=alert.payload(),
                              timeout=config.timeout_seconds)
        delivered = response.is_success
        if not delivered:
            error = f"HTTP {response.status_code}: {response.text[:200]}"
    except httpx.HTTPError as exc:  # the message of an httpx error can hold the URL: keep only its kind
        error = type(exc).__name__
    if not delivered:
        log.warning("alert %s not delivered: %s", alert.kind, error, extra={"alert": alert.kind})
    if conn is not None:
        conn.execute("""insert into ops.alerts (run_id, kind, value, message, delivered, error)
                        values (%s, %s, %s, %s, %s, %s)""",
                     (alert.run_id, alert.kind, alert.value, alert.payload()["text"][:4000], delivered, error))
        conn.commit()
    return delivered


def dispatch(alerts: list[Alert], config: AlertSettings | None = None) -> list[Alert]:
    """Send the alerts that are due; returns those delivered."""
    config = config or AlertSettings()
    if config.webhook_url is None or not alerts:
        return []
    sent = []
    with connect() as conn:
        for alert in alerts:
            if _due(conn, alert, config.repeat_hours) and send(alert, config, conn):
                sent.append(alert)
    return sent


def after_cycle(summary: dict, config: AlertSettings | None = None) -> list[Alert]:
    """Called at the end of every cycle; an alerting problem never fails the cycle."""
    try:
        config = config or AlertSettings()
        return dispatch(evaluate(summary, config), config)
    except Exception as exc:
        log.warning("alerts not evaluated: %s", type(exc).__name__, extra={"run_id": summary.get("run_id")})
        return []


def describe(config: AlertSettings | None = None) -> list[str]:
    """The configuration as `pshub alerts show` prints it (the URL reduced to its host)."""
    config = config or AlertSettings()
    if config.webhook_url is None:
        target = "not configured (set PSHUB_ALERT_WEBHOOK_URL)"
    else:
        target = f"{httpx.URL(config.webhook_url.get_secret_value()).host} (URL hidden: it is a secret)"
    return [f"webhook:              {target}",
            f"on failed run:        {'yes' if config.on_failed_run else 'no'}",
            f"max open failures:    {config.max_open_exceptions if config.max_open_exceptions is not None else 'off'}",
            f"max money at stake:   {_fmt(config.max_money_at_stake) if config.max_money_at_stake is not None else 'off'}"
            f" {get_settings().reporting_currency if config.max_money_at_stake is not None else ''}".rstrip(),
            f"repeat after:         {config.repeat_hours:g} h (sooner when the figure grows)"]
