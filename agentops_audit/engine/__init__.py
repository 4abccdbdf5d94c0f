"""Engines besides the local DuckDB one: the canonical Parquet dataset (``export``), the DuckDB SQL transpiled
to Spark SQL (``transpile``) and the audit's views and metrics run on Apache Spark (``spark``)."""
