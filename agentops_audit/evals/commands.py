"""The ``gate`` and ``sample-evals`` commands (registered by ``cli.build_parser``).

``gate`` exits 0 on PASS, 4 on FAIL, 5 on INCONCLUSIVE and 2 on a usage error, so CI can block a
release on it; INCONCLUSIVE is not a pass (the sample is too small to tell the change from noise). A
comparison with no data (unsafe-write attempts, usually) is printed as not measured; ``--strict`` makes it
INCONCLUSIVE.
"""

from __future__ import annotations

import json
from pathlib import Path

from agentops_audit.errors import InputError

GATE_EXIT = {"PASS": 0, "FAIL": 4, "INCONCLUSIVE": 5}
GATE_ITEM = "eval.regression-gate"  # its catalog threshold is the default drop allowed
UNSAFE = "unsafe_write_attempts"  # evals.compare.UNSAFE (compare imports DuckDB; this module stays light)


def _pct(x: float | None, signed: bool = True) -> str:
    if x is None:
        return "-"
    return f"{x:+.1%}" if signed else f"{x:.1%}"


def _print_gate(result) -> None:
    print(
        f"Regression gate: {result.candidate} vs baseline {result.baseline} "
        f"(drop allowed {result.threshold:.1%}, {result.confidence:.0%} confidence)"
    )
    print(f"  {'metric':<28} {'base':>7} {'cand':>7} {'diff':>7}  {'interval':<19} {'n':>6}  decision")
    for c in result.comparisons:
        interval = f"[{_pct(c.ci_low)}, {_pct(c.ci_high)}]" if c.ci_low is not None else "-"
        line = (
            f"  {c.metric:<28} {_pct(c.baseline, False):>7} {_pct(c.candidate, False):>7} "
            f"{_pct(c.difference):>7}  {interval:<19} {min(c.n_baseline, c.n_candidate):>6}  {c.decision}"
        )
        if c.n_needed:
            line += f" (needs {c.n_needed:,} cases per release)"
        if c.note:
            line += f" - {c.note}"
        print(line)
    measured = len(result.comparisons) - len(result.not_measured)
    for c in result.not_measured:
        what = "unsafe-write attempts" if c.metric == UNSAFE else c.metric
        if result.strict:
            print(f"Not measured: {what}; --strict demands it, so the gate cannot pass ({c.note})")
        else:
            print(
                f"Not measured: {what}; the decision covers the {measured} measured comparisons "
                f"(--strict demands it) ({c.note})"
            )
    print(f"Decision: {result.decision} (exit {GATE_EXIT[result.decision]})")


def cmd_gate(args) -> int:
    from agentops_audit import catalog, db
    from agentops_audit.evals import compare

    threshold = args.threshold
    if threshold is None:
        threshold = catalog.load().item(GATE_ITEM).threshold.value
    if not 0 <= threshold < 1:
        raise InputError(f"--threshold must be a fraction in [0, 1), e.g. 0.01 for 1%; got {threshold}")
    if not 0.5 < args.confidence < 1:
        raise InputError(f"--confidence must be between 0.5 and 1, e.g. 0.95; got {args.confidence}")
    con = db.connect(args.db, read_only=True)
    try:
        known = compare.releases(con)
        for flag, release in (("--baseline", args.baseline), ("--candidate", args.candidate)):
            if release not in known:
                raise InputError(
                    f"{flag} {release!r} has no eval results in {args.db}; releases with results: "
                    f"{', '.join(known) or 'none (ingest them with --format evals)'}"
                )
        if args.baseline == args.candidate:
            raise InputError("--baseline and --candidate are the same release")
        result = compare.run_gate(con, args.baseline, args.candidate, threshold, args.confidence, args.strict)
    finally:
        con.close()
    _print_gate(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2))
    if getattr(args, "summary_md", None):  # added by integrations.commands
        from agentops_audit.integrations import summary

        print(f"Summary: {summary.write(args.summary_md, summary.gate_markdown(result.to_dict()))}")
    return GATE_EXIT[result.decision]


def cmd_sample(args) -> int:
    from agentops_audit import db
    from agentops_audit.evals import sample

    if args.n < 1:
        raise InputError(f"--n must be at least 1; got {args.n}")
    con = db.connect(args.db, read_only=True)
    try:
        meta = sample.write(
            con, args.out, n=args.n, seed=args.seed, top_workflows=args.top_workflows, db_path=str(args.db)
        )
    finally:
        con.close()
    if not meta["n_drawn"]:
        raise InputError(f"no production sessions to sample in {args.db}")
    print(
        f"Wrote {meta['n_drawn']} of {meta['population']} sessions from {len(meta['strata'])} strata to "
        f"{args.out} (seed {args.seed}); strata and seed in {meta['meta_path']}"
    )
    low, high = sample.RECOMMENDED
    if not low <= meta["n_drawn"] <= high:
        print(f"Note: the checklist asks for an initial eval set of {low}-{high} production traces")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser(
        "gate",
        help="regression gate: compare a candidate release with a baseline on the evals "
        "(exit 0 PASS, 4 FAIL, 5 INCONCLUSIVE)",
    )
    p.add_argument("--db", required=True, help="audit database with eval results")
    p.add_argument("--baseline", required=True, help="baseline release")
    p.add_argument("--candidate", required=True, help="candidate release")
    p.add_argument(
        "--threshold",
        type=float,
        help="largest drop allowed, as a fraction (default: the catalog's 0.01 of eval.regression-gate)",
    )
    p.add_argument("--confidence", type=float, default=0.95, help="confidence of the intervals (default 0.95)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="demand every comparison: unsafe-write attempts not measured make the gate INCONCLUSIVE "
        "(default: decide on what was measured and say what was not)",
    )
    p.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    p.set_defaults(func=cmd_gate)

    p = sub.add_parser("sample-evals", help="draw a stratified, masked sample of production sessions to label")
    p.add_argument("--db", required=True, help="audit database with traces")
    p.add_argument("--out", required=True, help="JSON Lines file to write (metadata beside it, .meta.json)")
    p.add_argument("--n", type=int, default=300, help="sessions to draw (checklist: 200-500; default 300)")
    p.add_argument("--seed", type=int, default=7, help="seed of the draw (default 7)")
    p.add_argument("--top-workflows", type=int, default=5, help="busiest workflows sampled (default 5)")
    p.set_defaults(func=cmd_sample)
