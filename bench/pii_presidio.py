"""The Presidio side of ``bench/pii.py``; runs in the PII bench's own venv (never the project's).

python bench/pii_presidio.py generate OUT.jsonl [--n 3000] [--seed 7]
    span-labelled sentences from presidio-evaluator's generator and its own templates (text this
    project did not write), in the bench's corpus format
python bench/pii_presidio.py analyze CORPUS.jsonl OUT.json [--recognizers matching|all]
    Presidio's pattern recognizers on every text, with a blank spaCy pipeline (``spacy.blank("en")``:
    tokens only, no model download, no NER); prints spans found and the CPU seconds of the analysis
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

# presidio-evaluator's entity types -> the bench's types (others are not scored)
TYPES = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "credit_card",
    "IBAN_CODE": "iban",
    "US_SSN": "us_ssn",
    "IP_ADDRESS": "ip",
    "STREET_ADDRESS": "street_address",
}
MATCHING = [
    "EmailRecognizer",
    "PhoneRecognizer",
    "CreditCardRecognizer",
    "IbanRecognizer",
    "UsSsnRecognizer",
    "IpRecognizer",
]


def generate(out: str, n: int, seed: int) -> None:
    from presidio_evaluator.data_generator import PresidioSentenceFaker, presidio_additional_entity_providers

    random.seed(seed)  # the generator draws its templates from the global random
    # HospitalProvider would try to download a list from the web; no template of ours needs it
    providers = [p for p in presidio_additional_entity_providers if p.__name__ != "HospitalProvider"]
    faker = PresidioSentenceFaker("en_US", lower_case_ratio=0.05, random_seed=seed, entity_providers=providers)
    samples = faker.generate_new_fake_sentences(num_samples=n)
    with open(out, "w") as fh:
        for i, s in enumerate(samples):
            spans = [
                {
                    "start": sp.start_position,
                    "end": sp.end_position,
                    "type": TYPES[sp.entity_type],
                    "value": s.full_text[sp.start_position : sp.end_position],
                }
                for sp in s.spans
                if sp.entity_type in TYPES
            ]
            fh.write(
                json.dumps(
                    {
                        "id": f"presidio-{i}",
                        "text": s.full_text,
                        "spans": spans,
                        "source": "presidio-evaluator",
                        "template": s.template_id,
                    }
                )
                + "\n"
            )


def engine(which: str):
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    nlp = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    nlp.nlp = {"en": spacy.blank("en")}  # instead of nlp.load(), which would need a downloaded model
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
    for r in list(registry.recognizers):
        ner = r.name in ("SpacyRecognizer", "StanzaRecognizer", "TransformersRecognizer", "GLiNERRecognizer")
        if ner or (which == "matching" and r.name not in MATCHING):
            registry.remove_recognizer(r.name)
    return AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])


def analyze(corpus: str, out: str, which: str) -> None:
    with open(corpus) as fh:
        rows = [json.loads(line) for line in fh]
    analyzer = engine(which)
    analyzer.analyze("warm up jane@example.com 415-555-0123", language="en")
    found = []
    c0, t0 = time.process_time(), time.perf_counter()
    for row in rows:
        results = analyzer.analyze(row["text"], language="en")
        found.append(
            [
                {"start": r.start, "end": r.end, "type": TYPES[r.entity_type], "score": r.score}
                for r in results
                if r.entity_type in TYPES
            ]
        )
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    names = sorted(r.name for r in analyzer.registry.recognizers)
    with open(out, "w") as fh:
        json.dump(
            {
                "found": found,
                "cpu_seconds": cpu,
                "wall_seconds": wall,
                "recognizers": names,
                "texts": len(rows),
                "chars": sum(len(r["text"]) for r in rows),
            },
            fh,
        )


def cli(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("out")
    g.add_argument("--n", type=int, default=3000)
    g.add_argument("--seed", type=int, default=7)
    a = sub.add_parser("analyze")
    a.add_argument("corpus")
    a.add_argument("out")
    a.add_argument("--recognizers", choices=["matching", "all"], default="matching")
    args = p.parse_args(argv)
    if args.cmd == "generate":
        generate(args.out, args.n, args.seed)
    else:
        analyze(args.corpus, args.out, args.recognizers)
    return 0


if __name__ == "__main__":
    sys.exit(cli())
