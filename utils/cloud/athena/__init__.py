"""Athena on the local cloud (engine: DuckDB; SQL dialect: Trino via sqlglot)."""
