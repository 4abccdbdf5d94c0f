"""Evaluation suite: the regression gate's statistics (``gate``), the database side of the gate
(``compare``), judge calibration (``calibration``), automated checks on eval outputs (``checks``), the
stratified production sample for labelling (``sample``) and the ``gate`` and ``sample-evals`` commands
(``commands``). Eval results live in the ``evals`` table and the ``eval_results`` view (``schema.sql``);
the ``evals`` ingest format loads them."""
