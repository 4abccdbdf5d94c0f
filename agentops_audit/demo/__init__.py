"""The demo: seeded agent traces with known defects and their ground truth (``synth.py``, ``sessions.py``,
``truth.py``), several weeks of them with a token drift (``weeks.py``), demo eval results
(``eval_results.py``), and ``agentops-audit demo`` itself (``run.py``)."""
