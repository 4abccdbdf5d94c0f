"""`ingest --from mlflow URI --experiment E` against a real MLflow tracking server on 127.0.0.1 (SQLite
backend, local artifact store), with traces logged by MLflow's own tracing. Needs the `servers` extra;
skipped without it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("mlflow.server", reason="the `servers` extra (mlflow) is not installed")

import mlflow  # noqa: E402
from mlflow.entities import SpanType  # noqa: E402

from agentops_audit import cli  # noqa: E402
from tests.support import servers  # noqa: E402

EXPERIMENT = "support-agent"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with servers.mlflow(tmp_path_factory.mktemp("mlflow")) as url:
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(url)
        mlflow.set_experiment(EXPERIMENT)
        yield url
        mlflow.set_tracking_uri(previous)


@mlflow.trace(span_type=SpanType.TOOL)
def lookup_order(order_id: str) -> str:
    if order_id == "B2":
        raise ConnectionError("order service unavailable")
    return f"order {order_id} shipped"


@mlflow.trace(name="support_agent", span_type=SpanType.AGENT)
def support_agent(order_id: str, session: str) -> str:
    mlflow.update_current_trace(session_id=session, user="alice")
    try:
        return lookup_order(order_id)
    except ConnectionError as exc:
        return f"sorry: {exc}"


def log(*sessions: tuple[str, str]) -> None:
    for order, name in sessions:
        support_agent(order, name)
    mlflow.flush_trace_async_logging()


def pull(db: Path, url: str, *extra: str) -> int:
    return cli.main(["ingest", "--from", "mlflow", url, "--experiment", EXPERIMENT, "--db", str(db), *extra])


def rows(db: Path, sql: str) -> list:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_pull_pages_of_traces_resumes_with_overlap_and_counts_rereads(server, tmp_path):
    db = tmp_path / "audit.duckdb"
    log(("A1", "ml-0"), ("B2", "ml-1"), ("A1", "ml-2"))
    assert pull(db, server, "--page-size", "2") == 0
    assert rows(db, "SELECT count(*), count(DISTINCT session_id) FROM spans") == [(6, 3)]
    tools = rows(db, "SELECT session_id, status_code FROM spans WHERE span_type = 'tool' ORDER BY session_id")
    assert tools == [("ml-0", "OK"), ("ml-1", "ERROR"), ("ml-2", "OK")]
    pages = rows(
        db,
        "SELECT p.path, p.records, s.sha256, s.format FROM pull_pages p JOIN sources s USING (source_id) "
        "WHERE pull_id = 1 ORDER BY page",
    )
    assert [p[1] for p in pages] == [2, 1]
    for path, _, sha, fmt in pages:
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha and fmt == "mlflow"
    assert rows(db, "SELECT status, pages, rows_read, rows_loaded FROM pulls") == [("complete", 2, 6, 6)]

    log(("A1", "ml-3"))
    assert pull(db, server, "--page-size", "2") == 0  # the overlap (1 h) reads the first three again
    assert rows(db, "SELECT count(*) FROM spans") == [(8,)]
    # page 1 is the same two traces as before, byte for byte: skipped by its sha256 (its ledger row is pull 1's);
    # page 2 holds the third trace again (duplicates) and the new one
    second = rows(
        db, "SELECT rows_read, rows_loaded, rows_duplicate, resumed_from IS NOT NULL FROM pulls WHERE pull_id = 2"
    )
    assert second == [(4, 2, 2, True)]
    assert rows(db, "SELECT page, source_id FROM pull_pages WHERE pull_id = 2 ORDER BY page") == [(1, 1), (2, 3)]

    assert pull(db, server, "--overlap", "0") == 0  # from the last trace start on: that trace again, nothing new
    assert rows(db, "SELECT rows_read, rows_loaded, rows_duplicate FROM pulls WHERE pull_id = 3") == [(2, 0, 2)]
    assert rows(
        db, "SELECT sum(rows_read) = sum(rows_loaded + rows_duplicate + rows_quarantined + rows_filtered) FROM sources"
    ) == [(True,)]


def test_window_and_unknown_experiment(server, tmp_path, capsys):
    log(("A1", "ml-window"))
    db = tmp_path / "w.duckdb"
    assert pull(db, server, "--since", "2001-01-01", "--until", "2001-01-02") == 0
    assert rows(db, "SELECT count(*) FROM spans") == [(0,)]
    assert cli.main(["ingest", "--from", "mlflow", server, "--experiment", "no-such", "--db", str(db)]) == 2
    assert capsys.readouterr().err.strip().endswith("MLflow has no experiment named 'no-such'")
    assert rows(db, "SELECT count(*) FROM pulls") == [(1,)]
