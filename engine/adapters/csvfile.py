"""Reading the contract's CSV import files (UTF-8, header row)."""

from __future__ import annotations

import csv
from pathlib import Path

from engine.errors import InputInvalid, Problem

MAX_BYTES = 50_000_000


def read_rows(path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(row number in the file, row keyed by column name); blank rows skipped; header problems raise."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputInvalid(f"{path.name} is larger than 50 MB", hint="Split the file and import the parts.")
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputInvalid(f"{path} does not exist", hint="Check the file name and folder.") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputInvalid(f"{path.name} is not UTF-8 text",
                           [Problem(line, None, "has characters that are not UTF-8")],
                           hint="Save the file as 'CSV UTF-8' from your spreadsheet and import again.") from None
    except OSError as exc:
        raise InputInvalid(f"cannot read {path}: {exc.strerror}", hint="Check the file's permissions.") from None
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputInvalid(f"{path.name} is empty", hint=f"The first row must name the columns: {', '.join(columns)}.") from None
    problems = [Problem(1, c, "column is missing") for c in required if c not in header]
    problems += [Problem(1, h or "(blank)", "is not a known column") for h in header if h not in columns]
    if problems:
        raise InputInvalid(f"{path.name} has the wrong header", problems,
                           hint=f"The first row must name the columns: {', '.join(columns)}.")
    rows: list[tuple[int, dict[str, str]]] = []
    for n, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            problems.append(Problem(n, None, f"has {len(values)} values but the header has {len(header)} columns"))
        rows.append((n, dict(zip(header, values))))
    if problems:
        raise InputInvalid(f"{path.name} has malformed rows", problems)
    return rows
