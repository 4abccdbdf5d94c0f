"""``ingest --engine spark``: OTLP JSON files into the canonical Parquet dataset (``engine/export.py``), on Spark.

Each input file is one Spark task, and that task loads it with the DuckDB ingest itself (``ingest.loader``:
the OTLP fast path or the reference reader, the quarantine with its masked excerpts, the tree readings and
the tool calls derived from LLM messages) into an in-memory database. One loader, so the rows, the
quarantine records and the ledger's meanings are those of ``ingest --db``; Spark adds what crosses files:

- de-duplication on (trace_id, span_id) across the run's files (the first file, in the order ``ingest``
  reads them, keeps a span) and against the spans the dataset already holds;
- the ledger: ``rows_loaded`` is what the dataset gained from the file, ``rows_duplicate`` what it already
  held or the file repeats, ``rows_quarantined`` the records kept aside; a file whose sha256 the ledger
  holds is skipped (so re-running the same input changes nothing);
- the writing: new spans appended under ``spans/day=YYYY-MM-DD/``, the small tables (``sources``,
  ``quarantine``, ...) and ``dataset.json`` rewritten by a local DuckDB.

What differs from ``ingest --db``: the tree readings and the derived tool calls (``ingest/postload.py``)
see the spans of one file, where the DuckDB ingest also sees the spans earlier files stored in the same
traces (identical when each trace is in one file, as the tests check). The files must be readable at the
same path by the executors (local, or a shared mount), and a file is one task: a large export parallelises
when it is written as several files (the OpenTelemetry Collector's file exporter rotates them).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import duckdb
import pyarrow as pa

from agentops_audit import db
from agentops_audit.engine import export
from agentops_audit.ingest.summary import SourceSummary

FILE = "_file"  # the columns the tasks add to the spans: the file's place in the run, the row's kind, a payload
KIND = "_kind"
PAYLOAD = "_payload"


def _spans_schema() -> pa.Schema:
    con = db.connect(":memory:")
    try:
        return con.sql("SELECT * FROM spans LIMIT 0").to_arrow_table().schema
    finally:
        con.close()


def task_schema() -> pa.Schema:
    return (
        _spans_schema()
        .append(pa.field(FILE, pa.int64()))
        .append(pa.field(KIND, pa.string()))
        .append(pa.field(PAYLOAD, pa.string()))
    )


def _side(schema: pa.Schema, place: int, kind: str, payloads: list[str]) -> pa.RecordBatch:
    """Rows of ``kind`` (a quarantine record or the file's summary) with nothing in the span columns."""
    n = len(payloads)
    arrays = [pa.nulls(n, f.type) for f in schema][:-3]
    arrays += [pa.array([place] * n, pa.int64()), pa.array([kind] * n), pa.array(payloads, pa.string())]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def load_files(batches, known: frozenset[str]):
    """The task: for each (place, path) row, the file loaded by the DuckDB ingest into a fresh in-memory
    database, as Arrow batches of ``task_schema``: its spans, its quarantine records and its summary (JSON)."""
    from agentops_audit.ingest import ADAPTERS, SNIFF_BYTES, otlp, sniff
    from agentops_audit.ingest.loader import load_file
    from agentops_audit.ingest.reader import read_head, sha256_file

    schema = task_schema()
    for batch in batches:
        for place, name in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
            path = Path(name)
            summary = SourceSummary(path=name, format=otlp.NAME)
            con = None
            try:
                if sha256_file(path) in known:
                    summary.skipped = True
                elif not read_head(path, SNIFF_BYTES).strip():
                    pass  # empty: reported as such, as `ingest --db` does
                elif sniff(path) != otlp.NAME:
                    summary.format = "?"
                    summary.error = "not OTLP JSON (ingest --engine spark reads OTLP JSON files only)"
                else:
                    con = db.connect(":memory:")
                    summary = load_file(
                        con, path, otlp.NAME, ADAPTERS[otlp.NAME].read, {}, fast=ADAPTERS[otlp.NAME].load
                    )
            except Exception as exc:  # an unreadable file: reported, the other files still load
                summary.error = f"{type(exc).__name__}: {exc}"
            if con is not None and not summary.error:
                table = con.sql(
                    f"SELECT *, {place}::BIGINT AS {FILE}, 'span' AS {KIND}, NULL::VARCHAR AS {PAYLOAD} FROM spans"
                ).to_arrow_table()
                yield from table.cast(schema).to_batches(max_chunksize=50_000)
                quarantined = [
                    json.dumps(dict(zip(("locator", "reason", "excerpt"), row, strict=True)))
                    for row in con.execute("SELECT locator, reason, excerpt FROM quarantine ORDER BY rowid").fetchall()
                ]
                if quarantined:
                    yield _side(schema, place, "quarantine", quarantined)
            if con is not None:
                con.close()
            yield _side(schema, place, "summary", [json.dumps(dataclasses.asdict(summary))])


def _ledger(dataset: Path) -> tuple[frozenset[str], int]:
    """(the sha256 of the files the dataset's ledger holds, loaded without filters; the last source id)."""
    if not (dataset / "sources.parquet").exists():
        return frozenset(), 0
    con = duckdb.connect()
    rows = con.execute(f"SELECT sha256, filters FROM read_parquet({export._q(dataset / 'sources.parquet')})").fetchall()
    last = con.execute(
        f"SELECT coalesce(max(source_id), 0) FROM read_parquet({export._q(dataset / 'sources.parquet')})"
    ).fetchall()[0][0]
    con.close()
    return frozenset(sha for sha, filters in rows if not filters), int(last)


def ingest(spark, paths: list[Path], dataset: str | Path) -> list[SourceSummary]:
    """Load the OTLP files ``paths`` into ``dataset`` (created when missing); one summary per file, in order."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    root = Path(dataset).resolve()
    if root.exists() and any(root.iterdir()):
        export.read_manifest(root)  # an exported dataset of this schema version, or one clear error
    known, last = _ledger(root)
    files = spark.createDataFrame([(i, str(p.resolve())) for i, p in enumerate(paths)], f"{FILE} long, path string")
    files = files.repartition(max(1, len(paths)), FILE)  # one file per task
    loaded = files.mapInArrow(lambda batches: load_files(batches, known), from_arrow_schema(task_schema()))
    loaded = loaded.persist()
    try:
        side = loaded.filter(F.col(KIND) != "span").select(FILE, KIND, PAYLOAD).collect()
        summaries = {r[FILE]: SourceSummary(**json.loads(r[PAYLOAD])) for r in side if r[KIND] == "summary"}
        quarantined = {}
        for r in side:
            if r[KIND] == "quarantine":
                quarantined.setdefault(r[FILE], []).append(json.loads(r[PAYLOAD]))
        ids = {}
        for place in sorted(summaries):
            s = summaries[place]
            if not (s.error or s.skipped):
                ids[place] = last + 1 + len(ids)
        spans = loaded.filter(F.col(KIND) == "span").drop(KIND, PAYLOAD)
        first = Window.partitionBy("trace_id", "span_id").orderBy(FILE)
        fresh = spans.withColumn("_copy", F.row_number().over(first)).filter("_copy = 1").drop("_copy")
        if (root / "spans").exists():
            stored = spark.read.parquet(str(root / "spans")).select("trace_id", "span_id")
            fresh = fresh.join(stored, ["trace_id", "span_id"], "left_anti")
        mapping = (
            F.create_map(*[x for place, sid in ids.items() for x in (F.lit(place), F.lit(sid))])
            if ids
            else F.create_map().cast("map<bigint,bigint>")
        )
        fresh = fresh.withColumn("source_id", mapping[F.col(FILE)].cast("int")).persist()
        kept = {
            r[FILE]: r["n"]
            for r in fresh.filter("derived_from IS NULL").groupBy(FILE).agg(F.count("*").alias("n")).collect()
        }
        new_spans = fresh.count()
        if new_spans:
            (
                fresh.drop(FILE)
                .withColumn("day", F.to_date("start_time"))
                .repartition("day")
                .sortWithinPartitions(*export.SPANS_ORDER.split(", "))
                .write.mode("append")
                .partitionBy("day")
                .parquet(str(root / "spans"))
            )
        fresh.unpersist()
    finally:
        loaded.unpersist()
    out = []
    for place, path in enumerate(paths):
        s = summaries.get(place) or SourceSummary(path=str(path), format="?", error="the Spark task returned nothing")
        s.path = str(path)
        if place in ids:  # the spans the dataset already held or an earlier file of the run brought: duplicates
            s.rows_duplicate += s.rows_loaded - kept.get(place, 0)
            s.rows_loaded = kept.get(place, 0)
        out.append(s)
    if ids or not (root / export.MANIFEST).exists():  # else the run changed nothing: nothing is rewritten
        _write_tables(root, out, ids, quarantined, new_spans)
    return out


def _write_tables(
    root: Path, summaries: list[SourceSummary], ids: dict[int, int], quarantined: dict, new_spans: int
) -> None:
    """The ledger rows and quarantine records of the run added to the dataset's small tables, every table of
    the schema but the spans written (``export.write_tables``), and ``dataset.json`` with the new row counts."""
    from agentops_audit.ingest.loader import write_source

    manifest = export.read_manifest(root) if (root / export.MANIFEST).exists() else {"tables": {}}
    root.mkdir(parents=True, exist_ok=True)
    con = db.connect(":memory:")
    try:
        for table in manifest["tables"]:
            if table not in ("spans", "meta"):
                con.execute(f"INSERT INTO {table} BY NAME {export.source_sql(root, table)}")
        for place, sid in ids.items():
            s = summaries[place]
            write_source(con, sid, Path(s.path), s)
            rows = [(sid, q["locator"], q["reason"], q["excerpt"]) for q in quarantined.get(place, [])]
            if rows:
                con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?)", rows)
        tables = export.write_tables(con, root, skip=("spans",))
    finally:
        con.close()
    tables["spans"] = manifest["tables"].get("spans", 0) + new_spans
    export.write_manifest(root, dict(sorted(tables.items())))
