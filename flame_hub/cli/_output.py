"""Writing records: ``table`` (rich, for people), ``json``, ``jsonl`` and ``csv`` (for programs).

Records are the clients' Pydantic models, written as the Hub sent them (``exclude_unset``), with
Python (snake_case) names. ``jsonl`` and ``csv`` stream: a listing of 10,000 records is written as
its pages arrive, in constant memory.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

FORMATS = ("table", "json", "jsonl", "csv")
#: columns a table shows when ``--fields`` does not choose them
_TABLE_COLUMNS = 5


def default_format() -> str:
    """``table`` on a terminal, JSON lines when piped."""
    return "table" if sys.stdout.isatty() else "jsonl"


def as_dict(record: Any) -> dict[str, Any]:
    """A record (model or dict) as a JSON-ready dict of what the Hub sent."""
    if hasattr(record, "model_dump"):
        return record.model_dump(mode="json", exclude_unset=True)
    return dict(record)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _table_columns(first: dict[str, Any], name_key: str | None) -> list[str]:
    """id, the name, then the record's other plain values (no ids of relations, no timestamps)."""
    front = [k for k in ("id", name_key) if k and k in first]
    rest = [k for k, v in first.items() if k not in front and not isinstance(v, (dict, list))
            and not k.endswith("_id") and k not in ("created_at", "updated_at")]
    return (front + rest)[:_TABLE_COLUMNS]


def write(records: Iterable[Any], fmt: str, *, columns: list[str] | None = None,
          name_key: str | None = None, single: bool = False) -> int:
    """Write records to stdout in ``fmt``; ``single``: one record (``json`` writes an object, not
    an array). Returns how many were written."""
    rows: Iterator[dict[str, Any]] = (as_dict(r) for r in records)
    out = sys.stdout
    count = 0
    if fmt == "jsonl" or (fmt == "json" and single):
        for row in rows:
            out.write(json.dumps(row, indent=2 if fmt == "json" else None) + "\n")
            count += 1
        return count
    if fmt == "json":
        out.write("[")
        for row in rows:
            out.write(("," if count else "") + "\n  " + json.dumps(row))
            count += 1
        out.write("\n]\n" if count else "]\n")
        return count
    first = next(rows, None)
    if first is None:
        if fmt == "table":
            sys.stderr.write("(no records)\n")
        return 0
    rows = chain([first], rows)
    if fmt == "csv":
        names = columns or list(first)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([_cell(row.get(k)) for k in names])
            count += 1
        return count
    from rich.console import Console
    from rich.table import Table

    names = columns or _table_columns(first, name_key)
    table = Table(show_lines=False, highlight=False)
    for name in names:  # ids are never cut: they are what the next command needs
        table.add_column(name, no_wrap=name == "id", min_width=36 if name == "id" else None)
    for row in rows:
        table.add_row(*(_cell(row.get(k)) for k in names))
        count += 1
    Console(soft_wrap=False).print(table)
    return count


def write_mapping(data: dict[str, Any], fmt: str) -> None:
    """One mapping (``whoami``): ``key  value`` lines as a table, else like a record."""
    if fmt == "table":
        width = max(len(k) for k in data) if data else 0
        for key, value in data.items():
            sys.stdout.write(f"{key.ljust(width)}  {_cell(value)}\n")
        return
    write([data], fmt, single=True)
