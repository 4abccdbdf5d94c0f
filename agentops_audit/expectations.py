"""Run the Great Expectations suites of ``checks/suites.yml`` on DuckDB-derived tables.

GX 1.x validates pandas frames here (DuckDB has already reduced the data; GX's SQL path does not work
with duckdb-engine). One ephemeral context per audit, analytics and progress bars off.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import polars as pl
import yaml

from agentops_audit.catalog import Threshold
from agentops_audit.paths import checks_dir

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402  (the environment must be set before import)
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

_BOUNDS = {
    ">=": lambda v: {"min_value": v},
    ">": lambda v: {"min_value": v, "strict_min": True},
    "<=": lambda v: {"max_value": v},
    "<": lambda v: {"max_value": v, "strict_max": True},
    "==": lambda v: {"min_value": v, "max_value": v},
}


def load_suites() -> dict:
    return yaml.safe_load((checks_dir() / "suites.yml").read_text())


@dataclass
class Outcome:
    expectation: str
    kwargs: dict
    success: bool
    observed: dict

    def to_dict(self) -> dict:
        return asdict(self)


def build(spec: dict, threshold: Threshold | None) -> gxe.Expectation:
    """One GX expectation from a suite entry, with the threshold filled in."""
    kwargs = {k: v for k, v in spec.items() if k not in ("type", "bound")}
    if spec.get("bound"):
        if threshold is None:
            raise ValueError(f"{spec['type']} needs a threshold and the item has none")
        kwargs.update(_BOUNDS[threshold.op](threshold.value))
    class_name = "".join(part.capitalize() for part in spec["type"].split("_"))
    return getattr(gxe, class_name)(**kwargs)


class Validator:
    """Validates frames against the suites; one GX ephemeral context for its lifetime."""

    def __init__(self, suites: dict | None = None):
        self.suites = suites if suites is not None else load_suites()
        self.context = gx.get_context(mode="ephemeral")
        self.context.enable_analytics(False)
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.source = self.context.data_sources.add_pandas("agentops_audit")
        self._batches: dict[str, object] = {}

    def default_threshold(self, check: str, spec: dict | None = None) -> Threshold | None:
        default = (spec or self.suites[check]).get("default")
        return Threshold(**default) if default else None

    def validate(
        self, check: str, frame: pl.DataFrame, threshold: Threshold | None, spec: dict | None = None
    ) -> list[Outcome]:
        """``spec``: a suite declared with the check (``@check(..., suite={...})``) instead of suites.yml."""
        suite_spec = spec or self.suites[check]
        threshold = threshold or self.default_threshold(check, spec)
        table = suite_spec["table"]
        if table not in self._batches:
            asset = self.source.add_dataframe_asset(table)
            self._batches[table] = asset.add_batch_definition_whole_dataframe(f"{table}_whole")
        batch = self._batches[table].get_batch(batch_parameters={"dataframe": frame.to_pandas()})
        suite = gx.ExpectationSuite(name=f"{check}_suite")
        suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
        for spec in suite_spec["expectations"]:
            suite.add_expectation(build(spec, threshold))
        result = batch.validate(suite, result_format="COMPLETE")
        outcomes = []
        for r in result.results:
            observed = {
                k: r.result.get(k)
                for k in ("observed_value", "element_count", "unexpected_count", "unexpected_list")
                if k in r.result
            }
            kwargs = {k: v for k, v in r.expectation_config.kwargs.items() if k not in ("batch_id",)}
            outcomes.append(Outcome(r.expectation_config.type, kwargs, bool(r.success), observed))
        return outcomes
