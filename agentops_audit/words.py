"""Plain words for the sentences leadership reads: counts with their noun in the right number, and the
names of stored fields, required fields, PII entities and defects instead of column ids.

Used by the evaluators' display lines and by the report; identifiers that are the team's own data (tool,
workflow, rule and release names) are left as they are.
"""

from __future__ import annotations

# canonical text columns and required fields -> what a reader calls them (plural: they are counted)
FIELDS = {
    "input_text": "model inputs",
    "output_text": "model outputs",
    "tool_args": "tool arguments",
    "tool_result": "tool results",
    "status_message": "error messages",
    "model_name": "model names",
    "model_version": "model versions",
    "prompt_version": "prompt template versions",
    "retrieval_doc_ids": "retrieved document ids",
    "retrieval_timestamp": "retrieval timestamps",
    "latency": "latencies",
    "outcome": "task outcomes",
}
# what a required field applies to (``applies_to`` of the required_fields metric)
RECORDS = {"llm": "model calls", "retrieval": "retrievals", "tool": "tool calls", "span": "steps", "task": "tasks"}
# pii.ENTITIES names -> (one, many)
ENTITIES = {
    "email": ("e-mail address", "e-mail addresses"),
    "phone": ("phone number", "phone numbers"),
    "iban": ("IBAN", "IBANs"),
    "credit_card": ("card number", "card numbers"),
    "us_ssn": ("US social security number", "US social security numbers"),
    "date_of_birth": ("date of birth", "dates of birth"),
    "street_address": ("street address", "street addresses"),
    "private_key": ("private key", "private keys"),
    "jwt": ("access token (JWT)", "access tokens (JWT)"),
    "github_token": ("GitHub token", "GitHub tokens"),
    "api_key_sk": ("API key", "API keys"),
    "aws_access_key": ("AWS access key", "AWS access keys"),
}
# counted defects (trace_propagation, audit_trail metrics) -> (one, many)
DEFECTS = {
    "orphan_spans": ("orphan span", "orphan spans"),
    "traces_with_several_roots": ("trace with several roots", "traces with several roots"),
    "traces_without_root": ("trace without a root", "traces without a root"),
    "spans_without_ids": ("span without ids", "spans without ids"),
    "tool_calls_without_call_id": ("tool call without a call id", "tool calls without a call id"),
    "tool_calls_without_result": ("tool call whose result never arrived", "tool calls whose result never arrived"),
    "sessions_split_across_traces": ("session split across traces", "sessions split across traces"),
    "writes_without_record": ("write without an audit record", "writes without an audit record"),
    "records_without_actor": ("audit record without an actor", "audit records without an actor"),
    "records_without_change": ("audit record without the change", "audit records without the change"),
    "hash_mismatches": ("audit record whose hash does not match", "audit records whose hash does not match"),
    "dangling_links": ("link to a missing record", "links to a missing record"),
    "forks": ("fork in the chain", "forks in the chain"),
    "extra_chain_starts": ("extra start of the chain", "extra starts of the chain"),
}
# other ids that reach a reader (at-fault lists)
IDS = {
    **{k: many for k, (_, many) in DEFECTS.items()},
    **{k: many for k, (_, many) in ENTITIES.items()},
    "unsafe_write_attempts": "unsafe-write attempts",
    "oversized_prompts": "oversized prompts",
    "uncategorised": "uncategorised",
}


def plural(n: int | float, one: str, many: str | None = None) -> str:
    """``1 write``, ``2 writes``, ``1,204 tasks`` (``many`` when the plural is not ``one + "s"``)."""
    shown = f"{int(n):,}" if float(n).is_integer() else f"{n:,.1f}"
    return f"{shown} {one if n == 1 else (many or one + 's')}"


def defects(n: int, name: str) -> str:
    """A count of one kind of defect: ``1 orphan span``, ``14 orphan spans``."""
    one, many = DEFECTS.get(name, (name.replace("_", " "), name.replace("_", " ")))
    return f"{n:,} {one if n == 1 else many}"


def field(name: str) -> str:
    """A stored or required field in words: ``tool_result`` -> ``tool results``."""
    return FIELDS.get(name, name.replace("_", " "))


def entity(name: str, n: int = 2) -> str:
    """A PII entity in words, ``n`` of them: ``phone`` -> ``phone numbers`` (an organisation's own pattern
    keeps its name)."""
    one, many = ENTITIES.get(name, (name.replace("_", " "), name.replace("_", " ")))
    return one if n == 1 else many


def entities(n: int, name: str) -> str:
    """``7 phone numbers``, ``1 e-mail address``."""
    return f"{n:,} {entity(name, n)}"


def ident(name: str) -> str:
    """A known id in words (fields, entities, defects); any other string unchanged."""
    text = str(name)
    return IDS.get(text) or FIELDS.get(text) or text


# checks whose at-fault lists name rubric items or eval metrics (ids of the eval set, such as
# ``no_invented_facts``); their display lines already say them in words, and so does the at-fault line
RUBRIC_CHECKS = frozenset({"regression_gate", "judge_calibration", "eval_automated_checks"})


def at_fault(item: dict) -> list[str]:
    """An item's at-fault list in words: rubric items spelled out, known ids named, the team's names kept."""
    names = [str(n) for n in item.get("at_fault") or []]
    if item.get("check") in RUBRIC_CHECKS:
        return [IDS.get(n) or n.replace("_", " ") for n in names]
    return [ident(n) for n in names]
