"""Write small scenario bundles for tests: the valid example plus targeted edits.

``write_bundle(tmp_path)`` copies the valid example bundle (a copy of the
shared tiny-network, kept under tests/data/import) into a fresh folder.
Keyword overrides replace whole files; the edit helpers change single cells
or append rows, so each test states only the one thing it breaks.
Row numbers are line numbers as an editor shows them (header = 1).
"""

from __future__ import annotations

import csv
import io
import shutil
import tomllib
import zipfile
from pathlib import Path

import pandas as pd

EXAMPLE = Path(__file__).parent / "data" / "import" / "tiny-network"


def file_name(key: str) -> str:
    """``staff`` -> ``staff.csv``, ``network`` -> ``network.toml`` (full names pass through)."""
    if "." in key:
        return key
    return "network.toml" if key == "network" else f"{key}.csv"


def write_bundle(tmp_path: Path, name: str = "bundle", **overrides: str | bytes | None) -> Path:
    """A valid bundle folder under ``tmp_path``; ``staff="..."`` replaces staff.csv, None drops it.

    Text overrides are written as UTF-8; bytes are written as they are (for encoding tests).
    """
    folder = tmp_path / name
    shutil.copytree(EXAMPLE, folder)
    for path in folder.iterdir():
        path.chmod(0o644)  # the shared example is read-only; tests edit their copy
    for key, content in overrides.items():
        target = folder / file_name(key)
        if content is None:
            target.unlink(missing_ok=True)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return folder


def read_rows(folder: Path, key: str) -> list[list[str]]:
    """All lines of a CSV file as lists of cells (the header is element 0 = row 1)."""
    text = (folder / file_name(key)).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def write_rows(folder: Path, key: str, rows: list[list[str]]) -> None:
    """Write lists of cells back as a CSV file."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (folder / file_name(key)).write_text(out.getvalue(), encoding="utf-8")


def set_cell(folder: Path, key: str, row: int, column: str, value: str) -> None:
    """Change one cell, addressed by row number (header = 1) and column name."""
    rows = read_rows(folder, key)
    rows[row - 1][rows[0].index(column)] = value
    write_rows(folder, key, rows)


def append_row(folder: Path, key: str, line: str) -> int:
    """Append one raw CSV line; returns its row number."""
    path = folder / file_name(key)
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n", encoding="utf-8")
    return len(read_rows(folder, key))


def rename_column(folder: Path, key: str, column: str, new_name: str) -> None:
    """Rename a header cell (to make a required column go missing, or add an unknown one)."""
    rows = read_rows(folder, key)
    rows[0][rows[0].index(column)] = new_name
    write_rows(folder, key, rows)


def drop_column(folder: Path, key: str, column: str) -> None:
    """Remove a column from the header and every row."""
    rows = read_rows(folder, key)
    index = rows[0].index(column)
    write_rows(folder, key, [r[:index] + r[index + 1 :] for r in rows])


def add_column(folder: Path, key: str, column: str, value: str = "") -> None:
    """Add a column at the end, with the same value on every row."""
    rows = read_rows(folder, key)
    write_rows(folder, key, [[*rows[0], column], *([*r, value] for r in rows[1:])])


def edit_text(folder: Path, key: str, old: str, new: str) -> None:
    """Replace a piece of a file's text (e.g. one line of network.toml); it must be present."""
    path = folder / file_name(key)
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise ValueError(f"{old!r} is not in {path.name}")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def network_rows(folder: Path) -> list[tuple[str, object]]:
    """network.toml flattened to the ``key,value`` rows of a workbook's network sheet."""
    document = tomllib.loads((folder / "network.toml").read_text(encoding="utf-8"))
    rows: list[tuple[str, object]] = []
    for key, value in document.items():
        if isinstance(value, dict):
            rows.extend((f"{key}.{name}", item) for name, item in value.items())
        else:
            rows.append((key, value))
    return rows


def write_workbook(folder: Path, target: Path, network_sheet: bool = True) -> Path:
    """The bundle in ``folder`` as one .xlsx (a sheet per CSV, all cells as text)."""
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for path in sorted(folder.glob("*.csv")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            frame.to_excel(writer, sheet_name=path.stem, index=False)
        if network_sheet:
            frame = pd.DataFrame(network_rows(folder), columns=["key", "value"])
            frame.to_excel(writer, sheet_name="network", index=False)
    return target


def write_zip(folder: Path, target: Path, inner_folder: str | None = None) -> Path:
    """The bundle in ``folder`` as a .zip, optionally inside one top-level folder."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.iterdir()):
            name = f"{inner_folder}/{path.name}" if inner_folder else path.name
            archive.write(path, name)
    return target
