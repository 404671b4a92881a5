"""Small-count protection for every statistics table Lotsa prints (README, "Statistics").

The rule, in three steps, applied to each table:

1. **Cell Key Method** (as Statistics Sweden has used for its population tables since 2025): every
   statistics row carries a fixed random key drawn once when it was written. A cell's key is the
   sum of its rows' keys modulo 2³¹, scaled to [0, 1); it picks a small fixed noise from
   `PERTURBATION`. The same set of rows gives the same key, so the same cell is printed with the same
   value in every table and every report, and two reports over overlapping periods cannot be
   subtracted to give a small count exactly: each side carries its own noise.
2. **Primary suppression**: a cell with 1 to 4 rows is never printed (null; `<5` in CSV and HTML).
   A cell with no rows is 0. A cell with 5 or more is its count plus the noise, at least 5.
3. **Complementary suppression**: in every line of a table that adds up (a row or column together with
   its total), a single suppressed cell would follow from the others and the total, so the smallest
   other printed cell of that line is suppressed too; repeated until no line has exactly one.

So every count printed is a whole number ≥ 5, 0, or null.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MIN_COUNT = 5
KEY_RANGE = 2**31
PERTURBATION: tuple[tuple[float, int], ...] = ((0.10, -2), (0.30, -1), (0.70, 0), (0.90, 1), (1.0, 2))
"""(upper bound of the cell key, noise added): -2 and +2 one time in ten each, -1 and +1 one time in
five each, none two times in five; mean zero."""


def cell_key(record_keys: Iterable[int]) -> float:
    """The cell's key in [0, 1): the same rows give the same key, in any table."""
    return (sum(record_keys) % KEY_RANGE) / KEY_RANGE


def noise(key: float) -> int:
    for bound, delta in PERTURBATION:
        if key < bound:
            return delta
    return PERTURBATION[-1][1]


def protect(count: int, key: float) -> int | None:
    """The printed value of a cell of `count` rows: 0, None (1–4), or the perturbed count (≥ 5)."""
    if count == 0:
        return 0
    if count < MIN_COUNT:
        return None
    return max(MIN_COUNT, count + noise(key))


@dataclass
class Cell:
    dims: dict[str, str]
    keys: list[int]
    """The record keys of the rows in this cell."""
    total: bool = False
    """A margin (row or column total), suppressed only when no inner cell can be."""
    value: int | None = field(default=None, init=False)
    extra: dict[str, int | None] = field(default_factory=dict)


def suppress_complements(cells: Sequence[Cell], lines: Sequence[Sequence[int]]) -> None:
    """Until no line (cell indexes that add up) has exactly one suppressed cell, suppress the smallest
    other printed non-zero cell of such a line (inner cells before totals)."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [i for i in line if cells[i].value is None]
            if len(hidden) != 1:
                continue
            candidates = [i for i in line if cells[i].value not in (None, 0)]
            if not candidates:
                continue
            pick = min(candidates, key=lambda i: (cells[i].total, cells[i].value or 0, i))
            cells[pick].value = None
            changed = True


def protect_table(cells: Sequence[Cell], lines: Sequence[Sequence[int]]) -> list[dict[str, object]]:
    """The printed rows of a table: each cell protected, then complementary suppression on `lines`."""
    for cell in cells:
        cell.value = protect(len(cell.keys), cell_key(cell.keys))
    suppress_complements(cells, lines)
    return [{**cell.dims, "count": cell.value, **cell.extra} for cell in cells]
