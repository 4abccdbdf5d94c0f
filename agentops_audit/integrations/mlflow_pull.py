"""Pages of traces from an MLflow tracking server, through MLflow's own client (extra ``mlflow``):
``MlflowClient(uri).search_traces(experiment_ids, filter_string, max_results, order_by, page_token)``,
oldest first (``order_by=["timestamp_ms ASC"]``), in the window ``timestamp_ms >= start AND timestamp_ms <
end`` (the trace's start, epoch milliseconds). Each page is written as one ``Trace.to_json()`` per line, the
shape ``ingest/mlflow.py`` reads. The resume mark is a trace start time in epoch ms (see ``pull``).
"""

from __future__ import annotations

import calendar
import inspect
from collections.abc import Iterator

from agentops_audit.integrations.sources import Page, PullError, Request


def _ms(moment) -> int:
    return calendar.timegm(moment.timetuple()) * 1000 + moment.microsecond // 1000


def _client(uri: str):
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise PullError("pulling from MLflow needs its client: pip install 'agentops-audit[mlflow]'") from None
    return MlflowClient(tracking_uri=uri)


def _experiment_id(client, name: str) -> str:
    from mlflow.exceptions import MlflowException

    try:
        found = client.get_experiment_by_name(name)
        if found is None and name.isdigit():
            found = client.get_experiment(name)
    except MlflowException as exc:
        raise PullError(f"MLflow: {str(exc).splitlines()[0][:300]}") from None
    except Exception as exc:  # connection refused, DNS, ...: the client raises its transport's errors
        raise PullError(f"cannot reach MLflow: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from None
    if found is None:
        raise PullError(f"MLflow has no experiment named {name!r}")
    return found.experiment_id


def pages(req: Request, resume: str | None) -> Iterator[Page]:
    from mlflow.entities import TraceState
    from mlflow.exceptions import MlflowException

    client = _client(req.url)
    experiment = _experiment_id(client, req.scope)
    lower = _ms(req.since) if req.since else (max(0, int(resume) - req.overlap_s * 1000) if resume else None)
    bounds = ([f"trace.timestamp_ms >= {lower}"] if lower is not None else []) + (
        [f"trace.timestamp_ms < {_ms(req.until)}"] if req.until else []
    )
    # MLflow 3.x names the experiments `locations` (`experiment_ids` is deprecated); earlier 3.x only had the latter
    where = (
        {"locations": [experiment]}
        if "locations" in inspect.signature(client.search_traces).parameters
        else {"experiment_ids": [experiment]}
    )
    latest = int(resume) if resume else None
    running = None  # the earliest start of a trace still in progress: the next pull must not start after it
    token = None
    while True:
        try:
            found = client.search_traces(
                **where,
                filter_string=" AND ".join(bounds) or None,
                max_results=req.page_size,
                order_by=["timestamp_ms ASC"],
                page_token=token,
            )
        except MlflowException as exc:
            raise PullError(f"MLflow search_traces failed: {str(exc).splitlines()[0][:300]}") from None
        except Exception as exc:
            raise PullError(f"cannot reach MLflow: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from None
        traces = list(found)
        if not traces:
            return
        for trace in traces:
            start = trace.info.request_time
            latest = start if latest is None else max(latest, start)
            if trace.info.state == TraceState.IN_PROGRESS:
                running = start if running is None else min(running, start)
        mark = latest if running is None else min(latest, running + req.overlap_s * 1000)
        payload = "\n".join(t.to_json() for t in traces).encode() + b"\n"
        yield Page(payload, len(traces), str(mark), suffix="jsonl")
        token = found.token
        if not token:
            return
