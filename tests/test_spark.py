"""Parity of the two engines: every view, metric and evidence query run on a real local Spark session gives
the DuckDB result, on the demo and on a hand-built fixture of edge cases; `audit --engine spark` writes the
same audit.json metrics. Skipped without the `spark` extra or a Java runtime (one Spark session per run)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import duckdb
import polars as pl
import pytest

pytest.importorskip("pyspark")
pytest.importorskip("sqlglot")
if shutil.which("java") is None:
    pytest.skip("no Java runtime (Debian: openjdk-17-jre-headless)", allow_module_level=True)

from agentops_audit import audit, cli, db, metrics  # noqa: E402
from agentops_audit import manifest as readiness  # noqa: E402
from agentops_audit.demo import synth  # noqa: E402
from agentops_audit.engine import export  # noqa: E402
from agentops_audit.engine import spark as engine  # noqa: E402
from agentops_audit.evidence import EVIDENCE, PII_FINDINGS  # noqa: E402
from agentops_audit.metrics import params, sqlfiles  # noqa: E402
from agentops_audit.paths import checks_dir  # noqa: E402
from agentops_audit.trends.windows import Week, sessions_in  # noqa: E402
from tests.parity import equal, same  # noqa: E402

pytestmark = pytest.mark.spark
SMALL = ["--spark-conf", "spark.sql.shuffle.partitions=2"]  # the CLI's default 8 is for real data
# hash() columns: the engines' hash functions differ (transpile.wide_hash); the groups they make are compared
# through the metrics and evidence queries that group on them
HASHED = {"tool_attempts": ["args_hash"], "logical_tool_calls": ["args_hash"]}  # hash() differs between engines
EVIDENCE_PARAMS = {"threshold": 2, "error_streak": params.ERROR_STREAK, **params.DEFAULT_BUDGETS}


@pytest.fixture(scope="session")
def spark():
    # small data: few shuffle partitions keep each of the ~60 queries short (the default 8 is for the CLI), and
    # on small data compiling the generated code costs more than it saves (C2 took most of the CPU). C1 alone
    # shrinks the JVM's default code cache from 240 MB to 48 MB, which this suite's ~60 queries filled ("Out of
    # space in CodeCache for adapters", in CI): the cache is given back its usual size.
    session = engine.session(
        "local[2]",
        {
            "spark.sql.shuffle.partitions": "2",
            "spark.sql.codegen.wholeStage": "false",
            "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m",
        },
    )
    yield session
    session.stop()


def _views_and_evidence(spark, ref) -> None:
    """The derived views and evidence queries of the dataset installed on ``spark`` against DuckDB's (``ref``)."""
    for view in sqlfiles.views():
        for name in view.creates:
            hashed = HASHED.get(name, [])
            same(
                pl.from_arrow(engine.local_types(spark.table(name).toArrow())).drop(hashed),
                db.frame(ref, f"SELECT * FROM {name}").drop(hashed),
                name,
            )
    for check, query in EVIDENCE.items():
        if PII_FINDINGS in query.requires:
            continue  # the PII scan runs locally (Python regular expressions): engine/commands.py
        args = {p: EVIDENCE_PARAMS[p] for p in query.params}
        same(pl.from_arrow(engine.run_sql(spark, query.sql, args)), db.frame(ref, query.sql, args or None), check)


def test_audit_engine_spark_writes_the_same_audit_json(spark, demo, tmp_path):
    """The demo through `audit --dataset --engine spark`: audit.json as the DuckDB audit wrote it, every metric
    Spark stored equal to DuckDB's, and every view and evidence query of the Spark session it left."""
    assert cli.main(["export", "--db", str(demo["db"]), "--to", str(tmp_path / "ds")]) == 0
    manifest = checks_dir() / "demo" / "readiness.yml"  # as `demo` audits
    assert cli.main(
        [
            "audit",
            "--dataset",
            str(tmp_path / "ds"),
            "--engine",
            "spark",
            "--out",
            str(tmp_path / "o"),
            "--manifest",
            str(manifest),
        ]
    ) in (0, 3, 4, 5)
    doc = json.loads((tmp_path / "o" / "audit.json").read_text())
    for key in ("metrics", "sections", "verdict", "recommended_phase", "blockers", "examples", "window"):
        assert equal(doc[key], demo["audit"][key]), key
    ref = db.connect(demo["db"], read_only=True)
    params.install(ref, {}, readiness.load(manifest))
    stored = db.connect(tmp_path / "o" / "dataset.duckdb", read_only=True)
    for name in metrics.METRICS:  # what the audit read (metrics.run reads engine_metrics first)
        same(metrics.run(stored, name), metrics.run(ref, name), name)
    _views_and_evidence(spark, ref)  # the CLI used this session (getOrCreate)


SPAN_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "span_type",
    "start_time",
    "end_time",
    "session_id",
    "workflow",
    "session_outcome",
    "tool_name",
    "tool_args",
    "tool_result",
    "status_code",
    "events",
    "service_version",
    "input_tokens",
    "output_tokens",
    "response_model",
)


def _edge_database(path) -> None:
    """Millisecond boundaries, empty and odd JSON values, evaluation events, unordered lists, no results."""
    t = datetime(2026, 11, 2, 12, 0, 0)
    ev = json.dumps(
        [
            {
                "name": "gen_ai.evaluation.result",
                "time_unix_nano": 1793620800000000000,
                "attributes": {
                    "gen_ai.evaluation.name": "relevance",
                    "gen_ai.evaluation.score.value": 0.5,
                    "gen_ai.evaluation.score.label": "pass",
                    "gen_ai.response.id": "r1",
                },
            },
            {
                "name": "gen_ai.evaluation.result",
                "attributes": {"gen_ai.evaluation.name": "tone", "gen_ai.evaluation.score.label": "no"},
            },
            {"name": "other"},
        ]
    )
    results = [
        '{"error": ""}',
        '{"error": null}',
        '{"error": false}',
        '{"error": "boom"}',
        "",
        "not json",
        '{"status": "Failed"}',
        '{"success": false}',
        '{"isError": true}',
        "[]",
        '"text"',
        None,
        "Traceback (most recent call last)",
        '{"a": {"error": 1}}',
    ]
    rows = []
    for i, result in enumerate(results):
        session = f"s{(i * 7) % 5}"  # sessions interleaved: aggregated lists must be sorted, not first-seen
        trace = f"t{i}"
        start = t.replace(microsecond=900 + i)  # 12:00:00.0009..: across millisecond boundaries below
        end = t.replace(microsecond=1100 + 1000 * i)
        outcome = ["success", "failure", None, "escalated", "success"][int(session[1])]  # one per session
        rows.append(
            (
                trace,
                "root",
                None,
                "agent",
                "agent",
                start,
                end,
                session,
                "w" if i % 2 else None,
                outcome,
                None,
                None,
                None,
                "OK",
                ev if i == 3 else None,
                "v1" if session < "s3" else "v2",
                None,
                None,
                None,
            )
        )
        rows.append(
            (
                trace,
                "llm",
                "root",
                "chat",
                "llm",
                start,
                end,
                session,
                None,
                None,
                None,
                None,
                None,
                "OK",
                None,
                None,
                100 + i,
                10,
                "gpt-4o-mini" if i % 2 else "unknown-model",
            )
        )
        for k in range(2):  # a retried tool call: same arguments twice
            at = start.replace(microsecond=start.microsecond + 500 * k)  # a retry starts later: no ties
            rows.append(
                (
                    trace,
                    f"tool{k}",
                    "root",
                    "tool",
                    "tool",
                    at,
                    end,
                    session,
                    None,
                    None,
                    f"tool_{i % 3}",
                    '{"q": 1}' if i % 4 else None,
                    result,
                    "ERROR" if i == 5 and k == 0 else "OK",
                    None,
                    None,
                    None,
                    None,
                    None,
                )
            )
    con = db.connect(path)
    con.executemany(
        f"INSERT INTO spans ({', '.join(SPAN_COLUMNS)}) VALUES ({', '.join('?' * len(SPAN_COLUMNS))})", rows
    )
    con.close()


def test_every_view_metric_and_evidence_query_on_edge_cases(spark, tmp_path):
    _edge_database(tmp_path / "edge.duckdb")
    export.export(tmp_path / "edge.duckdb", tmp_path / "ds")
    attached = export.attach(tmp_path / "ds", tmp_path / "dataset.duckdb")
    local, ref = db.connect(attached, read_only=True), db.connect(tmp_path / "edge.duckdb", read_only=True)
    engine.register_dataset(spark, tmp_path / "ds")
    engine.install(spark, local, {})
    params.install(ref, {})
    for name in metrics.METRICS:
        same(pl.from_arrow(engine.run_metric(spark, name)), metrics.run(ref, name), name)
    _views_and_evidence(spark, ref)


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory) -> dict:
    """A small generated OTLP export over two ISO weeks, ingested by DuckDB and exported as a dataset."""
    out = tmp_path_factory.mktemp("two-weeks")
    synth.generate(out / "gen", sessions=40, seed=11, days=10)
    traces = out / "gen" / "traces.otlp.jsonl"
    assert cli.main(["ingest", str(traces), "--db", str(out / "ref.duckdb")]) == 0
    export.export(out / "ref.duckdb", out / "ds")
    first = Week.of(synth.EPOCH)
    return {
        "out": out,
        "traces": traces,
        "db": out / "ref.duckdb",
        "ds": out / "ds",
        "weeks": [first.label, first.next().label],
    }


def _history(path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "weeks": con.execute(
                "SELECT week, verdict, recommended_phase, sessions, config_hash FROM weeks ORDER BY week"
            ).fetchall(),
            "metrics": con.execute("SELECT week, metric, value FROM week_metrics ORDER BY ALL").fetchall(),
            "items": con.execute("SELECT * FROM week_items ORDER BY week, item_id").fetchall(),
        }
    finally:
        con.close()


def test_weekly_engine_spark_records_the_same_history(spark, two_weeks, tmp_path):
    """`weekly --engine spark` over the dataset records the week, its metrics and items as `weekly` on the DuckDB
    database does, and writes the same audit.json metrics. The second week of two: the week's window must
    leave the first week's sessions out on Spark too (one week: each costs minutes of Spark on 2 cores)."""
    first, last = two_weeks["weeks"]
    common = ["--week", last, "--no-report"]
    codes = [
        cli.main(
            [
                "weekly",
                "--db",
                str(two_weeks["db"]),
                "--history",
                str(tmp_path / "h1.duckdb"),
                "--out-root",
                str(tmp_path / "r1"),
                *common,
            ]
        ),
        cli.main(
            [
                "weekly",
                "--dataset",
                str(two_weeks["ds"]),
                "--engine",
                "spark",
                *SMALL,
                "--history",
                str(tmp_path / "h2.duckdb"),
                "--out-root",
                str(tmp_path / "r2"),
                *common,
            ]
        ),
    ]
    assert codes[0] == codes[1] and codes[0] in (0, 3, 4, 5), codes  # both exit by the same verdict
    ref, got = _history(tmp_path / "h1.duckdb"), _history(tmp_path / "h2.duckdb")
    assert [w[0] for w in ref["weeks"]] == [last]
    assert len(ref["metrics"]) > 20 and len(ref["items"]) > 20
    for key in ref:
        assert equal(got[key], ref[key]), key
    docs = [json.loads((tmp_path / r / last / "audit.json").read_text()) for r in ("r1", "r2")]
    con = db.connect(two_weeks["db"], read_only=True)
    counts = [sessions_in(con, Week.parse(w)) for w in (first, last)]
    assert 0 < docs[0]["metrics"]["sessions"] == counts[1] < counts[0]
    con.close()
    for key in ("metrics", "weekly_metrics", "verdict", "recommended_phase"):
        assert equal(docs[1][key], docs[0][key]), key
    items = [
        [(i["id"], i["status"], i["value"], i["display"]) for s in d["sections"] for i in s["items"]] for d in docs
    ]  # (their evidence names the history file, which differs)
    assert equal(items[1], items[0])


def _spans_of(line: str) -> int:
    return sum(len(sc.get("spans", [])) for rs in json.loads(line)["resourceSpans"] for sc in rs["scopeSpans"])


LEDGER = "format, sha256, size_bytes, rows_read, rows_loaded, rows_duplicate, rows_quarantined, rows_filtered, filters"


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_ingest_engine_spark_writes_the_dataset_duckdb_ingest_would(spark, two_weeks, tmp_path, capsys):
    """OTLP files with a repeated line, a broken line and a later file of spans already loaded: the same ledger,
    quarantine and audit metrics as `ingest --db`; the same files again change nothing; bad input is one line."""
    lines = two_weeks["traces"].read_text().splitlines()
    bad, later = tmp_path / "bad.otlp.jsonl", tmp_path / "later.otlp.jsonl"
    bad.write_text("\n".join([*lines, lines[0], '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId":']) + "\n")
    later.write_text(lines[1] + "\n")
    ref, ds = tmp_path / "ref.duckdb", tmp_path / "ds"
    assert cli.main(["ingest", str(bad), str(later), "--db", str(ref)]) == 0
    assert cli.main(["ingest", str(bad), str(later), "--engine", "spark", *SMALL, "--dataset", str(ds)]) == 0
    con = db.connect(ref, read_only=True)
    want = con.execute(f"SELECT {LEDGER} FROM sources ORDER BY source_id").fetchall()
    want_quarantine = con.execute("SELECT locator, reason, excerpt FROM quarantine ORDER BY ALL").fetchall()
    con.close()
    attached = export.attach(ds, tmp_path / "dataset.duckdb")
    con = db.connect(attached, read_only=True)
    assert con.execute(f"SELECT {LEDGER} FROM sources ORDER BY source_id").fetchall() == want
    assert con.execute("SELECT locator, reason, excerpt FROM quarantine ORDER BY ALL").fetchall() == want_quarantine
    con.close()
    (read, loaded, duplicate, quarantined), later_row = want[0][3:7], want[1][3:7]
    assert (duplicate, quarantined) == (_spans_of(lines[0]), 1) and read == loaded + duplicate + quarantined
    assert later_row == (_spans_of(lines[1]), 0, _spans_of(lines[1]), 0)  # all stored by the earlier file
    docs = [audit.run(path, {}) for path in (ref, attached)]
    assert docs[0]["metrics"]["spans"] == loaded
    for key in ("metrics", "sections", "verdict"):
        assert equal(docs[1][key], docs[0][key]), key
    before = _files(ds)
    assert cli.main(["ingest", str(bad), str(later), "--engine", "spark", *SMALL, "--dataset", str(ds)]) == 0
    assert _files(ds) == before and "already ingested" in capsys.readouterr().out
    broken = tmp_path / "broken.otlp.jsonl"
    broken.write_text(lines[2][:50] + "\n")
    for argv, words in (
        ([str(tmp_path / "missing.jsonl")], "missing.jsonl"),
        ([str(broken)], "nothing loaded"),
        ([str(bad), "--db", str(ref)], "not --db"),
    ):
        assert cli.main(["ingest", *argv, "--engine", "spark", "--dataset", str(tmp_path / "ds2")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, err
