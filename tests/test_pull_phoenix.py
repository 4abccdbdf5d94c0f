"""`ingest --from phoenix URL --project P` against a real Arize Phoenix server on 127.0.0.1 (SQLite), fed by
the real OpenTelemetry exporter with OpenInference attributes. Needs the `servers` extra; skipped without it."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("phoenix.server.main", reason="the `servers` extra (arize-phoenix) is not installed")

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402

from agentops_audit import cli  # noqa: E402
from tests.support import servers  # noqa: E402

PROJECT = "support-agent"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory):
    with servers.phoenix(tmp_path_factory.mktemp("phoenix")) as url:
        prov = TracerProvider(resource=Resource.create({"openinference.project.name": PROJECT}))
        prov.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=url + "/v1/traces")))
        try:
            yield url, prov.get_tracer("support")
        finally:
            prov.shutdown()


def session(tracer, name: str, start_ns: int | None = None) -> None:
    agent = {"openinference.span.kind": "AGENT", "session.id": name}
    tool = {
        "openinference.span.kind": "TOOL",
        "tool.name": "lookup_order",
        "session.id": name,
        "input.value": '{"order_id": "A1"}',
        "output.value": "shipped",
    }
    with (
        tracer.start_as_current_span("support_agent", start_time=start_ns, attributes=agent),
        tracer.start_as_current_span("lookup_order", attributes=tool),
    ):
        pass


def stored(url: str) -> int:
    """Spans Phoenix has stored for the project (it ingests asynchronously)."""
    try:
        with urllib.request.urlopen(f"{url}/v1/projects/{PROJECT}/spans?limit=1000", timeout=10) as resp:
            return len(json.load(resp)["data"])
    except urllib.error.HTTPError:
        return 0


def wait_for(url: str, n: int) -> None:
    deadline = time.time() + 60
    while stored(url) < n:
        assert time.time() < deadline, f"Phoenix stored {stored(url)} spans, expected {n}"
        time.sleep(0.3)


def pull(db: Path, url: str, *extra: str) -> int:
    return cli.main(["ingest", "--from", "phoenix", url, "--project", PROJECT, "--db", str(db), *extra])


def rows(db: Path, sql: str) -> list:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_pull_pages_resumes_by_insertion_order_and_accounts_per_pull(phoenix, tmp_path, capsys):
    url, tracer = phoenix
    db = tmp_path / "audit.duckdb"
    for i in range(3):
        session(tracer, f"px-{i}")
    wait_for(url, 6)

    assert pull(db, url, "--page-size", "4") == 0
    assert rows(db, "SELECT count(*), count(DISTINCT session_id) FROM spans") == [(6, 3)]
    tools = rows(db, "SELECT tool_name FROM spans WHERE span_type = 'tool'")
    assert [t[0] for t in tools] == ["lookup_order"] * 3
    pages = rows(
        db,
        "SELECT p.path, p.records, s.sha256, s.rows_read, s.format FROM pull_pages p "
        "JOIN sources s USING (source_id) WHERE p.pull_id = 1 ORDER BY page",
    )
    assert [p[1] for p in pages] == [4, 2]  # two pages of at most 4 spans
    for path, _, sha, _read, fmt in pages:  # each page file is in the ledger, as the server returned it
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha and fmt == "openinference"
        assert "next_cursor" in json.loads(Path(path).read_text())
    pull1 = rows(db, "SELECT status, pages, rows_read, rows_loaded, mark FROM pulls WHERE pull_id = 1")[0]
    assert pull1[:4] == ("complete", 2, 6, 6)
    assert "pull 1 of phoenix" in capsys.readouterr().out

    # a late span: it started before everything pulled so far, but Phoenix stores it after them
    session(tracer, "px-late", start_ns=time.time_ns() - 3_600 * 10**9)
    session(tracer, "px-3")
    wait_for(url, 10)
    assert pull(db, url, "--page-size", "4") == 0
    pull2 = rows(
        db, "SELECT status, pages, rows_read, rows_loaded, rows_duplicate, resumed_from FROM pulls WHERE pull_id = 2"
    )[0]
    assert pull2 == ("complete", 1, 4, 4, 0, pull1[4])  # only what was stored since, nothing read twice
    assert rows(db, "SELECT count(*) FROM spans WHERE session_id = 'px-late'") == [(2,)]

    assert pull(db, url) == 0  # nothing new: an empty pull, the mark stays
    assert rows(db, "SELECT pages, rows_read, resumed_from = mark FROM pulls WHERE pull_id = 3") == [(0, 0, True)]
    ledger = rows(
        db, "SELECT sum(rows_read), sum(rows_loaded + rows_duplicate + rows_quarantined + rows_filtered) FROM sources"
    )
    assert ledger == [(10, 10)]
    per_pull = rows(
        db,
        "SELECT p.pull_id, p.rows_read, coalesce(sum(s.rows_read), 0) FROM pulls p "
        "LEFT JOIN pull_pages g USING (pull_id) LEFT JOIN sources s USING (source_id) "
        "GROUP BY ALL ORDER BY 1",
    )
    assert all(r[1] == r[2] for r in per_pull)


def test_window_is_sent_to_the_server(phoenix, tmp_path):
    url, tracer = phoenix
    session(tracer, "px-window")
    wait_for(url, 2)
    db = tmp_path / "window.duckdb"
    assert pull(db, url, "--since", "2001-01-01", "--until", "2001-01-02") == 0
    assert rows(db, "SELECT count(*) FROM spans") == [(0,)]
    assert rows(db, "SELECT pages, window_start FROM pulls") == [(0, __import__("datetime").datetime(2001, 1, 1))]
    assert pull(db, url, "--since", "2001-01-01") == 0
    assert rows(db, "SELECT count(*) FROM spans WHERE session_id = 'px-window'") == [(2,)]


def test_unknown_project_is_one_line_and_records_no_pull(phoenix, tmp_path, capsys):
    url, _ = phoenix
    db = tmp_path / "x.duckdb"
    assert cli.main(["ingest", "--from", "phoenix", url, "--project", "no-such-project", "--db", str(db)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("agentops-audit: error: Phoenix answered 404") and "\n" not in err
    assert rows(db, "SELECT count(*) FROM pulls") == [(0,)]
    assert cli.main(["ingest", "--from", "phoenix", url, "--db", str(db)]) == 2
    assert "--project" in capsys.readouterr().err
