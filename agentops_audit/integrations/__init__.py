"""Where teams already work: traces pulled from Phoenix and MLflow, a local OTLP/HTTP receiver, Markdown
summaries for CI, pushed alerts, verifiable (hashed and signed) results, and a regulation mapping.

Every way in goes through the same ingest (``agentops_audit.ingest``): pulled pages and received
requests are written as files, loaded by ``ingest.ingest`` and accounted for in the ``sources`` ledger,
with broken records quarantined.
"""
