"""`agentops-audit export` and the DuckDB engine on the exported Parquet dataset (no Spark needed)."""

import json

from agentops_audit import cli, db, metrics
from agentops_audit.engine import export
from agentops_audit.metrics import params
from tests.parity import same


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_export_writes_spans_by_day_and_again_the_same(demo, tmp_path, capsys):
    out = tmp_path / "ds"
    assert cli.main(["export", "--db", str(demo["db"]), "--to", str(out)]) == 0
    manifest = json.loads((out / "dataset.json").read_text())
    con = db.connect(demo["db"], read_only=True)
    assert manifest["tables"]["spans"] == db.scalar(con, "SELECT count(*) FROM spans") > 0
    days = db.scalar(con, "SELECT count(DISTINCT CAST(start_time AS DATE)) FROM spans")
    assert len(list((out / "spans").glob("day=*"))) == days
    first = _files(out)
    assert cli.main(["export", "--db", str(demo["db"]), "--to", str(out)]) == 0
    assert _files(out) == first  # re-running the same input changes nothing
    assert "Exported" in capsys.readouterr().out


def test_export_refuses_a_foreign_folder_with_one_line(demo, tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert cli.main(["export", "--db", str(demo["db"]), "--to", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "other than an exported dataset" in err
    assert cli.main(["audit", "--dataset", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2


def test_duckdb_audits_the_dataset_in_place_with_the_same_metrics(demo, tmp_path):
    export.export(demo["db"], tmp_path / "ds")
    attached = export.attach(tmp_path / "ds", tmp_path / "dataset.duckdb")
    assert attached.stat().st_size < 2_000_000  # views, not a copy of the spans
    a, b = db.connect(demo["db"], read_only=True), db.connect(attached, read_only=True)
    params.install(a, {})
    params.install(b, {})
    for name in metrics.METRICS:
        same(metrics.run(b, name), metrics.run(a, name), name)


def test_audit_engine_options_are_checked_with_one_line(demo, tmp_path, capsys):
    out = str(tmp_path / "o")
    for argv, words in (
        (["--db", str(demo["db"]), "--dataset", str(tmp_path)], "--db FILE) or an exported"),
        (["--out", out], "--db FILE) or an exported"),
        (["--db", str(demo["db"]), "--engine", "spark"], "give --dataset DIR"),
    ):
        assert cli.main(["audit", "--out", out, *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, err


def test_a_dataset_of_an_older_schema_with_the_same_tables_is_read_with_a_note(demo, tmp_path, capsys):
    """A dataset written at 5 or 6 holds this version's tables and is read (one `ingest --engine spark` wrote
    has no database to export it again from), with a note that its spans lack their enclosing agent's name
    (schema 7); one of an older schema is refused with one line."""
    import argparse

    import pytest

    from agentops_audit.engine import commands

    export.export(demo["db"], tmp_path / "ds")
    path = tmp_path / "ds" / "dataset.json"
    manifest = json.loads(path.read_text())

    def prepare() -> str:
        args = argparse.Namespace(db=None, dataset=str(tmp_path / "ds"), engine="duckdb", command="audit")
        commands.prepare(argparse.Namespace(**vars(args), out=str(tmp_path / "o")))
        return capsys.readouterr().err

    assert prepare() == ""
    for older in ("6", "5"):
        path.write_text(json.dumps({**manifest, "schema_version": older}))
        note = prepare()
        assert note.count("\n") == 1 and f"written at schema version {older}" in note and "(unknown)" in note
        con = db.connect(tmp_path / "o" / "dataset.duckdb", read_only=True)  # the audit's open
        assert db.schema_version(con) == db.SCHEMA_VERSION and db.scalar(con, "SELECT count(*) FROM sessions") > 0
        con.close()
    path.write_text(json.dumps({**manifest, "schema_version": "4"}))
    with pytest.raises(db.SchemaMismatch, match="exported with schema version 4"):
        export.attach(tmp_path / "ds", tmp_path / "four.duckdb")
