"""audit.json keeps its contract: the JSON Schema shipped in the package validates the demo's document."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from agentops_audit import audit
from agentops_audit.paths import PACKAGE_DIR

SCHEMA_PATH = PACKAGE_DIR / "audit.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _errors(validator, doc) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_demo_audit_json_validates(demo, validator):
    doc = demo["audit"]
    assert _errors(validator, doc) == []
    assert doc["schema_version"] == audit.SCHEMA_VERSION
    assert doc["manifest"]["policy_file"]["sha256"]  # the provenance of the readiness declarations
    for blocker in doc["blockers"]:
        assert {"item", "section", "at_fault", "owner"} <= set(blocker)


def test_audit_without_manifest_validates(demo, validator):
    doc = json.loads(json.dumps(audit.run(demo["db"]), default=str))  # as audit.write stores it
    assert doc["manifest"] is None
    assert _errors(validator, doc) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("verdict",), "MAYBE"),
        (("recommended_phase",), 5),
        (("config_hash",), "not-a-hash"),
        (("sections", 0, "items", 0, "status"), "OK"),
        (("blockers", 0, "owner"), 42),
        (("provenance", "inputs", 0, "sha256"), None),
    ],
)
def test_schema_rejects_a_broken_document(demo, validator, path, value):
    doc = copy.deepcopy(demo["audit"])
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    errors = _errors(validator, doc)
    assert errors and any(e.startswith("/".join(map(str, path))) for e in errors), errors


def test_schema_is_inside_the_package():
    """hatch packages everything under agentops_audit/, so the wheel ships the schema beside audit.py."""
    assert SCHEMA_PATH.parent == PACKAGE_DIR and SCHEMA_PATH.is_file()


def test_schema_requires_every_metric_key_the_audit_writes(demo):
    """audit.json's metrics come from results.Metrics; the schema requires each key it writes, so a key
    added (or dropped) without the schema fails here."""
    schema = json.loads((PACKAGE_DIR / "audit.schema.json").read_text())
    required = schema["properties"]["metrics"]["required"]
    assert len(required) == len(set(required))
    assert set(required) == set(demo["audit"]["metrics"])


def test_schema_rejects_a_missing_metric_key(demo, validator):
    doc = json.loads(json.dumps(demo["audit"]))
    del doc["metrics"]["cache_reads"]
    assert _errors(validator, doc) == ["metrics: 'cache_reads' is a required property"]


def test_schema_requires_every_field_of_the_typed_records():
    """audit.json comes from typed records (results.AuditDocument and its parts): the schema requires each
    field of each, so a field added to a record without its schema entry (or the other way) fails here."""
    from dataclasses import fields

    from agentops_audit import results

    schema = json.loads(SCHEMA_PATH.read_text())
    defs, props = schema["$defs"], schema["properties"]
    where = {
        results.AuditDocument: schema,
        results.Window: props["window"],
        results.VerdictBasis: props["verdict_basis"],
        results.Provenance: props["provenance"],
        results.Example: props["examples"]["items"],
        results.Section: defs["section"],
        results.AuditedItem: defs["item"],
        results.Source: defs["item"]["properties"]["source"],
        results.Blocker: defs["blocker"],
    }
    for record, part in where.items():
        assert sorted(part["required"]) == sorted(f.name for f in fields(record)), record.__name__
