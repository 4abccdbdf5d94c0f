"""Pages of spans from an Arize Phoenix server's REST API: ``GET /v1/projects/{project}/spans`` with
``sort=id&order=asc`` (insertion order), ``limit``, ``start_time``/``end_time`` (on span start, the end
excluded) and ``cursor``. Phoenix 20.x answers ``{"data": [span, ...], "next_cursor": ...}``; a span's
``id`` is a Relay global id, base64 of ``Span:<row id>``, and a cursor of that form asks for the spans from
that row id on. A server that ignores ``sort``/``order`` (older Phoenix) pages newest first: refused, since
a resumed pull could not be exact. ``PHOENIX_API_KEY``, when set, is sent as a bearer token.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

from agentops_audit.integrations.sources import Page, PullError, Request

TIMEOUT_S = 60


def row_id(global_id: str) -> int:
    """The row id in a Phoenix span id (``base64('Span:19')`` -> 19)."""
    try:
        kind, _, number = base64.b64decode(global_id).decode().partition(":")
        if kind != "Span":
            raise ValueError(kind)
        return int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PullError(f"unexpected Phoenix span id {global_id!r}: {exc}") from None


def cursor_after(row: int) -> str:
    """The cursor of the first span stored after row ``row``."""
    return base64.b64encode(f"Span:{row + 1}".encode()).decode()


def _get(url: str) -> bytes:
    headers = {"Accept": "application/json"}
    if os.environ.get("PHOENIX_API_KEY"):
        headers["Authorization"] = f"Bearer {os.environ['PHOENIX_API_KEY']}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", errors="replace").strip()
        raise PullError(f"Phoenix answered {exc.code} for {url.split('?', 1)[0]}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise PullError(f"cannot reach Phoenix at {url.split('/v1/', 1)[0]}: {getattr(exc, 'reason', exc)}") from None


def pages(req: Request, resume: str | None) -> Iterator[Page]:
    base = req.url.rstrip("/")
    project = urllib.parse.quote(req.scope, safe="")
    params = {"limit": req.page_size, "sort": "id", "order": "asc"}
    if req.since:
        params["start_time"] = req.since.isoformat() + "+00:00"
    if req.until:
        params["end_time"] = req.until.isoformat() + "+00:00"
    cursor = cursor_after(int(resume)) if resume else None
    last = int(resume) if resume else 0
    while True:
        query = urllib.parse.urlencode({**params, **({"cursor": cursor} if cursor else {})})
        payload = _get(f"{base}/v1/projects/{project}/spans?{query}")
        try:
            body = json.loads(payload)
            spans, cursor = body["data"], body.get("next_cursor")
        except (ValueError, KeyError, TypeError):
            raise PullError(
                f"Phoenix at {base} answered something that is not a span page: "
                f"{payload[:200].decode('utf-8', errors='replace')}"
            ) from None
        if not spans:
            return
        rows = [row_id(s["id"]) for s in spans]
        if rows != sorted(rows) or rows[0] <= last:
            raise PullError(
                f"Phoenix at {base} does not page spans in insertion order (sort=id&order=asc); "
                "arize-phoenix 20 or newer is needed for resumable pulls"
            )
        last = rows[-1]
        yield Page(payload, len(spans), str(last))
        if not cursor:
            return
