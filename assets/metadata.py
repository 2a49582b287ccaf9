"""Turning query results into the metadata operators read in the Dagster UI."""


import duckdb
from dagster import MetadataValue


def preview(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> MetadataValue:
    frame = con.execute(sql, params or []).df()
    return MetadataValue.md(frame.to_markdown(index=False) if len(frame) else "_no rows_")


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
