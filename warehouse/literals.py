"""Python values written into SQL as DuckDB literals, for running a query without binding parameters.

Binding Python values makes the DuckDB client import pandas (to recognise its types): about 0.9 s that a one-shot
`echotune chat` call would spend before its first answer. Values written as literals are exact (strings quoted with
'' doubled: DuckDB's standard strings give backslashes no meaning; NUL, which ends the SQL text, as chr(0); floats
typed as DOUBLE) and are still not parsed as SQL, so this is as safe as binding.
"""

from __future__ import annotations

from datetime import date, datetime


def literal(value) -> str:
    """A Python value as a DuckDB literal."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):  # a number read back from a DataFrame
        value = value.item()
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):  # typed: a bare 0.5 would be a DECIMAL, and nan or inf no number at all
        return f"'{value!r}'::DOUBLE"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, str):
        return "(" + " || chr(0) || ".join("'" + part.replace("'", "''") + "'" for part in value.split("\0")) + ")"
    raise TypeError(f"no SQL literal for a {type(value).__name__}")


def statements(sql: str, params, name: str = "inline_query") -> list[str]:
    """The query with its values as literals: the query itself without parameters, else PREPARE and EXECUTE."""
    if not params:
        return [sql]
    if isinstance(params, dict):
        named = not all(str(k).isdigit() for k in params)
        values = [f"{k} := {literal(v)}" if named else literal(v)
                  for k, v in sorted(params.items(), key=lambda kv: kv[0] if named else int(kv[0]))]
    else:
        values = [literal(v) for v in params]
    return [f"PREPARE {name} AS {sql}", f"EXECUTE {name}({', '.join(values)})"]
