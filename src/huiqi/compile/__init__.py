"""Compile the rule language to SQL for whole populations (DuckDB in process, Spark for clusters).

The scalar engine (``huiqi.engine``) explains one entity; this package computes the same status and
amount, to the fen, for millions. ``huiqi.compile.sql`` turns one expression into SQL text (DuckDB
dialect); ``huiqi.compile.document`` builds one query per document; sqlglot transpiles it to Spark.
"""
