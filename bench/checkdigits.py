"""Check digits for generated test data, shared by the PII corpus generator (bench/pii_corpus.py) and the PII
tests (tests/test_pii.py): an implementation independent of the product's own Luhn validator (agentops_audit/pii)."""


def luhn_digit(body: str) -> str:
    """The Luhn check digit that makes ``body + digit`` a valid card number."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)
