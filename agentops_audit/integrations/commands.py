"""The integration commands and options (registered by ``cli.build_parser`` through ``add_parsers``).

- ``receive``: the local OTLP/HTTP receiver (``receiver``);
- ``verify`` and ``keygen``: check an audit's hashes and signature; make an Ed25519 key (``verify``);
- on ``ingest``: ``--from phoenix|mlflow URL`` pulls traces from where they live (``pull``);
- on ``audit``, ``run``, ``weekly`` and ``gate``: ``--summary-md FILE`` (``summary``); on ``audit``, ``run``
  and ``weekly``: ``--sign KEY`` (``verify``); on ``weekly``: ``--notify URL`` (``notify``).

Exit codes: ``receive`` exits 0 after a clean stop, 75 when files were left in the spool because the
database stayed busy (they load at the next start); ``verify`` exits 0 when everything matches, 6 when
something changed or a signature does not verify, 2 on a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

from agentops_audit.errors import InputError

EXIT_VERIFY_FAILED = 6
EXIT_SPOOL_LEFT = 75


def cmd_receive(args) -> int:
    import signal
    import threading

    from agentops_audit import db
    from agentops_audit.integrations import receiver

    db.connect(args.db).close()  # create it, or fail now with one line on another schema version
    if args.max_body_mb <= 0:
        raise InputError("--max-body-mb must be positive")
    if args.flush_seconds <= 0:
        raise InputError("--flush-seconds must be positive")
    try:
        rec = receiver.Receiver(
            args.db,
            args.host,
            args.port,
            args.spool,
            interval=args.flush_seconds,
            max_body=int(args.max_body_mb * (1 << 20)),
        )
    except OSError as exc:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    if args.host not in receiver.LOOPBACK:
        print(f"warning: listening on {args.host}, not loopback: the receiver has no authentication", file=sys.stderr)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(
        f"Receiving OTLP/HTTP traces at {rec.url} into {args.db} (spool {rec.spool.dir}); stop with Ctrl-C or SIGTERM",
        flush=True,
    )
    done = rec.serve(stop)
    s, loaded = rec.stats, rec.loader.stats
    print(
        f"Stopped: {s['requests']} requests accepted ({s['spans']} spans, {s['spans_rejected']} to quarantine), "
        f"{s['requests_rejected']} rejected, {s['requests_too_large']} too large; {loaded['files_loaded']} spool "
        f"files loaded (read {loaded['rows_read']}, loaded {loaded['rows_loaded']}, duplicate "
        f"{loaded['rows_duplicate']}, quarantined {loaded['rows_quarantined']})",
        flush=True,
    )
    if not done:
        left = len(rec.loader.pending())
        print(
            f"{left} spool files wait in {rec.spool.dir}: {args.db} stayed busy; they load at the next start",
            file=sys.stderr,
        )
        return EXIT_SPOOL_LEFT
    return 0


def cmd_pull(args) -> int:
    """``ingest --from phoenix|mlflow URL``: one pull, page by page (``pull``)."""
    from agentops_audit import db
    from agentops_audit.ingest.filters import Filters
    from agentops_audit.integrations import pull

    kind, url = args.from_source
    if args.paths:
        raise InputError("--from pulls from a server: give no PATH with it")
    if kind not in pull.KINDS:
        raise InputError(f"--from takes one of {', '.join(pull.KINDS)}, not {kind!r}")
    scope = args.project if kind == "phoenix" else args.experiment
    if not scope:
        raise InputError(
            "--from phoenix needs --project P"
            if kind == "phoenix"
            else "--from mlflow needs --experiment E (a name or an id)"
        )
    if args.page_size < 1 or args.overlap < 0:
        raise InputError("--page-size must be 1 or more and --overlap 0 or more")
    if args.format or args.mapping:
        raise InputError("--format and --mapping do not apply to --from: each server's pages have a known format")
    window = Filters.of(args.since, args.until)  # checked and parsed here; the window is sent to the server
    req = pull.Request(
        kind,
        url,
        scope,
        window.since,
        window.until,
        args.page_size,
        args.overlap,
        Path(args.pages_dir) if args.pages_dir else None,
        Filters.of(workflow=args.workflow),
    )
    con = db.connect(args.db)
    try:
        result = pull.run(con, req, args.db)
    finally:
        con.close()
    print(result.line())
    return 0


def cmd_verify(args) -> int:
    from agentops_audit.integrations import verify

    report = verify.verify(args.dir, key_path=args.key, root=args.root, db_path=args.db)
    print(f"{args.dir}:")
    for line in report.lines:
        print(line)
    if report.changed:
        print(
            f"FAILED: {report.changed} check{'s' if report.changed != 1 else ''} failed"
            + (f", {report.unchecked} not checked" if report.unchecked else "")
        )
        return EXIT_VERIFY_FAILED
    print("verified" + (f" ({report.unchecked} not checked: not found here)" if report.unchecked else ""))
    return 0


def cmd_keygen(args) -> int:
    from agentops_audit.integrations import verify

    private, public = verify.keygen(args.out)
    print(
        f"Wrote {private} (private: keep it secret, sign with --sign {private}) and {public} (give it to "
        f"reviewers: verify --key {public})"
    )
    return 0


def finish_audit(args, out_dir: str | Path, doc: dict) -> None:
    """After ``audit`` or ``run``: sign audit.json (``--sign``) and write the Markdown summary (``--summary-md``)."""
    from agentops_audit.integrations import summary, verify

    path = Path(out_dir) / "audit.json"
    if getattr(args, "sign", None):
        print(f"Signed:  {verify.sign(path, args.sign)}")
    if getattr(args, "summary_md", None):
        report = Path(out_dir) / "readiness-report.html"
        text = summary.audit_markdown(doc, report if report.exists() else None)
        print(f"Summary: {summary.write(args.summary_md, text)}")


def finish_weekly(args, done: list) -> None:
    """After ``weekly``: sign every week's audit.json, summarise and notify the last week."""
    from agentops_audit.integrations import notify, summary, verify

    if getattr(args, "sign", None):
        for result in done:
            print(f"Signed:  {verify.sign(result.out_dir / 'audit.json', args.sign)}")
    last = done[-1]
    report = str(last.out_dir / "readiness-report.html") if last.rendered else None
    if getattr(args, "summary_md", None):
        print(f"Summary: {summary.write(args.summary_md, summary.audit_markdown(last.doc, report))}")
    if getattr(args, "notify", None):
        outcome = notify.post(
            args.notify,
            notify.payload(last.doc, args.notify_format, report),
            timeout=args.notify_timeout,
            retries=args.notify_retries,
        )
        if outcome.delivered:
            print(f"Notified {notify.where(args.notify)} ({args.notify_format}, HTTP {outcome.status})")
        else:  # never fails the audit
            print(
                f"warning: could not notify {notify.where(args.notify)} after {outcome.attempts} attempt"
                f"{'s' if outcome.attempts != 1 else ''}: {outcome.error}; the audit itself is done",
                file=sys.stderr,
            )


def _key_file(text: str) -> str:
    import argparse

    from agentops_audit.integrations import verify

    try:
        verify._load_key(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _webhook(text: str) -> str:
    import argparse

    from agentops_audit.integrations import notify

    problem = notify.check_url(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def add_parsers(sub) -> None:
    from agentops_audit.integrations import notify, pull, receiver

    for name in ("audit", "run", "weekly", "gate"):
        sub.choices[name].add_argument(
            "--summary-md",
            metavar="FILE",
            help="also write a short Markdown verdict (for $GITHUB_STEP_SUMMARY or a "
            "pull-request comment; appended when FILE is $GITHUB_STEP_SUMMARY)",
        )
    for name in ("audit", "run", "weekly"):
        sub.choices[name].add_argument(
            "--sign",
            metavar="KEY",
            type=_key_file,
            help="sign audit.json into audit.json.sig: an Ed25519 PEM private key (see `keygen`) or a file holding "
            "an HMAC secret of 32 bytes or more",
        )
    p = sub.choices["weekly"]
    p.add_argument(
        "--notify",
        metavar="URL",
        type=_webhook,
        help="post the last week's verdict and alerts to this webhook (a failed post never fails the run)",
    )
    p.add_argument("--notify-format", choices=notify.FORMATS, default="json", help="json (default) or slack blocks")
    p.add_argument("--notify-timeout", type=float, default=10.0, help="seconds per attempt (default 10)")
    p.add_argument("--notify-retries", type=int, default=3, help="retries after the first attempt (default 3)")

    p = sub.add_parser(
        "verify",
        help="recompute the sha256 of an audit's inputs, config, catalog and itself; check "
        "its signature (exit 0 verified, 6 changed)",
    )
    p.add_argument("dir", metavar="DIR", help="audit output directory (or its audit.json)")
    p.add_argument("--key", help="the signer's public key (Ed25519 PEM) or the HMAC secret file")
    p.add_argument("--root", help="directory that relative input paths are relative to (default: the current one)")
    p.add_argument("--db", help="also compare the inputs with this audit database's ledger")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("keygen", help="write an Ed25519 key pair for --sign (KEY and KEY.pub; never overwrites)")
    p.add_argument("--out", required=True, help="private key file to write (the public key goes to OUT.pub)")
    p.set_defaults(func=cmd_keygen)

    p = sub.choices["ingest"]
    group = p.add_argument_group("pull from a server instead of files (--since/--until are then the pull's window)")
    group.add_argument(
        "--from",
        dest="from_source",
        nargs=2,
        metavar=("SERVER", "URL"),
        help="phoenix URL (Arize Phoenix base URL) or mlflow URI (MLflow tracking URI)",
    )
    group.add_argument("--project", help="Phoenix project (name or id)")
    group.add_argument("--experiment", help="MLflow experiment (name or id)")
    group.add_argument(
        "--page-size",
        type=int,
        default=pull.DEFAULT_PAGE_SIZE,
        help=f"spans (Phoenix, at most 1000) or traces (MLflow) per page (default {pull.DEFAULT_PAGE_SIZE})",
    )
    group.add_argument(
        "--overlap",
        type=int,
        default=pull.DEFAULT_OVERLAP_S,
        help="MLflow: seconds before the last trace start read that the next pull starts again "
        f"(default {pull.DEFAULT_OVERLAP_S})",
    )
    group.add_argument("--pages-dir", help="where pulled pages are kept (default: DB.pulls/)")

    p = sub.add_parser(
        "receive",
        help="receive OTLP/HTTP traces (protobuf or JSON) from any OpenTelemetry exporter into an audit database",
    )
    p.add_argument("--db", required=True, help="audit database (created if missing)")
    p.add_argument("--port", type=int, default=receiver.DEFAULT_PORT, help="port (default 4318; 0: any free port)")
    p.add_argument("--host", default=receiver.DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    p.add_argument("--spool", help="spool directory for received requests (default: DB.spool)")
    p.add_argument(
        "--flush-seconds", type=float, default=1.0, help="load the spool into the database this often (default 1 s)"
    )
    p.add_argument(
        "--max-body-mb",
        type=float,
        default=receiver.DEFAULT_MAX_BODY / (1 << 20),
        help="largest request body accepted, before and after decompression (default 16 MiB)",
    )
    p.set_defaults(func=cmd_receive)
