"""``weekly --notify URL``: post the week's verdict and alerts to a webhook, as JSON or as Slack blocks.

A failed post never fails the audit: it is retried with exponential backoff on a connection error, a
timeout, 429 or a 5xx answer (``Retry-After`` honoured up to ``MAX_WAIT_S``), then reported in one line on
stderr. Only http and https URLs are posted to; the URL (whose path may hold a secret, as Slack's does) is
never printed, only its scheme and host.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

FORMATS = ("json", "slack")
MAX_WAIT_S = 30.0
TOP_BLOCKERS = 5


@dataclass
class Outcome:
    delivered: bool
    attempts: int
    status: int | None
    error: str | None = None


def where(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def check_url(url: str) -> str | None:
    """The reason ``url`` cannot be posted to, or None."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--notify needs an http:// or https:// URL, not {url[:40]!r}"
    return None


def payload(doc: dict, fmt: str = "json", report: str | None = None) -> dict:
    """The message for one week's audit document."""
    from agentops_audit.integrations.verify import digest

    alerts = [
        {
            "metric": a["metric"],
            "message": a["message"],
            "previous": a["previous"],
            "current": a["current"],
            "change": a["change"],
            "threshold": a["threshold"],
        }
        for a in doc.get("alerts") or []
    ]
    blockers = [
        {
            "item": b["item"],
            "title": b["title"],
            "status": b["status"],
            "found": b.get("display"),
            "owner": b.get("owner"),
        }
        for b in (doc.get("blockers") or [])[:TOP_BLOCKERS]
    ]
    week = (doc.get("week") or {}).get("label")
    body = {
        "source": "agentops-audit",
        "toolkit_version": doc.get("toolkit_version"),
        "week": week,
        "verdict": doc["verdict"],
        "recommended_phase": doc.get("recommended_phase"),
        "declared_phase": doc.get("declared_phase"),
        "alerts": alerts,
        "blockers": blockers,
        "blockers_total": len(doc.get("blockers") or []),
        "digest": digest(doc),
        "report": report,
    }
    return body if fmt == "json" else slack_blocks(body)


def _mrkdwn(text) -> str:
    """Slack mrkdwn text: &, < and > escaped as Slack asks."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_blocks(body: dict) -> dict:
    """Slack Block Kit: a header, the verdict, the alerts, the top blockers, a context line; `text` is the
    notification fallback."""
    title = f"agentops-audit {body['week'] or ''}: {body['verdict']}".replace("  ", " ")
    verdict = f"*Verdict:* {_mrkdwn(body['verdict'])} · recommended phase {body['recommended_phase']}" + (
        f" (declared {body['declared_phase']})" if body.get("declared_phase") else ""
    )
    alerts = "\n".join(f"• :warning: {_mrkdwn(a['message'])}" for a in body["alerts"]) or "No alert this week."
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": verdict}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Alerts*\n{alerts}"[:3000]}},
    ]
    if body["blockers"]:
        lines = "\n".join(
            f"• {_mrkdwn(b['title'])} (`{_mrkdwn(b['item'])}`): {_mrkdwn(b['found'] or b['status'])}"
            for b in body["blockers"]
        )
        more = body["blockers_total"] - len(body["blockers"])
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": (f"*Blockers*\n{lines}" + (f"\n…and {more} more" if more > 0 else ""))[:3000],
                },
            }
        )
    context = f"result digest `{body['digest']}`" if body.get("digest") else "agentops-audit"
    if body.get("report"):
        context += f" · report `{_mrkdwn(body['report'])}`"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": f"{title}: {len(body['alerts'])} alert(s)", "blocks": blocks}


def post(
    url: str,
    message: dict,
    timeout: float = 10.0,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """POST ``message`` as JSON; up to ``retries`` more attempts after the first on a transient failure."""
    data = json.dumps(message).encode()
    status, error = None, None
    for attempt in range(1, retries + 2):
        wait = backoff * 2 ** (attempt - 1)
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json", "User-Agent": "agentops-audit"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return Outcome(True, attempt, resp.status)
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
            if exc.code != 429 and exc.code < 500:
                return Outcome(False, attempt, status, error)  # the receiver refused it: retrying will not help
            retry_after = exc.headers.get("Retry-After", "")
            if retry_after.isdigit():
                wait = min(float(retry_after), MAX_WAIT_S)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            status, error = None, str(getattr(exc, "reason", exc)) or type(exc).__name__
        if attempt <= retries:
            sleep(wait)
    return Outcome(False, retries + 1, status, error)
