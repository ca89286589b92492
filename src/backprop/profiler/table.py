"""Rows of a profile (``FunctionEventAvg``), a list of them (``EventList``) and the text table.

Times are in microseconds, as PyTorch's profiler gives them. Percentages are of the profiled
block's wall time, which the self times of all rows add up to.

>>> rows = EventList([FunctionEventAvg("linear", "forward", 3, 30.0, 30.0),
...                   FunctionEventAvg("[other]", "user", 1, 70.0, 100.0)], wall_time_us=100.0)
>>> print(rows.table(sort_by="self_cpu_time_total", row_limit=1))  # doctest: +ELLIPSIS
------...
   Name    Phase  Self CPU %  Self CPU  CPU total %  CPU total  CPU time avg  # of Calls
------...
[other]     user      70.00%  70.000us      100.00%  100.000us     100.000us           1
------...
Self CPU time total: 100.000us (2 rows, 1 shown)
"""

from __future__ import annotations

from typing import Any

# The keys ``table`` and ``sort`` accept, as in PyTorch (``None`` keeps the order ops first ran).
SORT_KEYS = ("self_cpu_time_total", "cpu_time_total", "cpu_time", "count")


class FunctionEventAvg:
    """One row: every call of one op (or node, or range) in one phase, with its timings.

    ``phase`` is ``forward``, ``backward``, ``optimizer`` or ``user`` (``record_function``
    ranges and ``[other]``, the time outside them all). ``input_shapes`` is set when the rows
    were grouped by input shape.
    """

    __slots__ = ("key", "phase", "count", "self_cpu_time_total", "cpu_time_total",
                 "input_shapes", "wall_time_us")

    def __init__(self, key: str, phase: str, count: int, self_cpu_time_total: float,
                 cpu_time_total: float, input_shapes: list | None = None,
                 wall_time_us: float = 0.0) -> None:
        self.key = key
        self.phase = phase
        self.count = count
        self.self_cpu_time_total = self_cpu_time_total  # microseconds, children excluded
        self.cpu_time_total = cpu_time_total  # microseconds, children included
        self.input_shapes = input_shapes
        self.wall_time_us = wall_time_us

    @property
    def name(self) -> str:
        return self.key

    @property
    def cpu_time(self) -> float:
        """Average time per call, children included (microseconds)."""
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_time(self) -> float:
        """Average self time per call (microseconds)."""
        return self.self_cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_percent(self) -> float:
        """Self time as a percentage of the profiled block's wall time."""
        return 100.0 * self.self_cpu_time_total / self.wall_time_us if self.wall_time_us else 0.0

    def __repr__(self) -> str:
        shapes = "" if self.input_shapes is None else f", input_shapes={self.input_shapes}"
        return (f"<FunctionEventAvg key={self.key} phase={self.phase} count={self.count} "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us "
                f"cpu_time_total={self.cpu_time_total:.3f}us{shapes}>")


class EventList(list):
    """The rows of ``profile.key_averages()``; ``table()`` renders them."""

    def __init__(self, rows: Any = (), wall_time_us: float = 0.0) -> None:
        super().__init__(rows)
        self.wall_time_us = wall_time_us

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of the rows' self times (microseconds)."""
        return sum(row.self_cpu_time_total for row in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_name_column_width: int = 55, header: str | None = None) -> str:
        """An aligned text table, largest first by ``sort_by`` (one of ``SORT_KEYS``; None keeps
        the order in which the ops first ran); ``row_limit <= 0`` shows every row."""
        rows = sort(self, sort_by, "table")
        if not isinstance(row_limit, int) or isinstance(row_limit, bool):
            raise TypeError(f"table: row_limit must be an int, got {type(row_limit).__name__}")
        shown = rows[:row_limit] if row_limit > 0 else rows
        return _render(shown, len(rows), self.wall_time_us, max_name_column_width, header)

    def __str__(self) -> str:
        return self.table()


def sort(rows: list[FunctionEventAvg], sort_by: str | None, caller: str) -> list:
    if sort_by is None:
        return list(rows)
    if sort_by not in SORT_KEYS:
        raise ValueError(f"{caller}: sort_by must be one of {', '.join(SORT_KEYS)} or None; "
                         f"got {sort_by!r}")
    return sorted(rows, key=lambda row: getattr(row, sort_by), reverse=True)


def format_time(us: float) -> str:
    """``12.345us``, ``1.234ms`` or ``2.000s``, as PyTorch's tables write durations."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _shapes_text(shapes: list | None) -> str:
    return "" if shapes is None else str([list(s) for s in shapes])


def _render(rows: list[FunctionEventAvg], total_rows: int, wall_us: float, name_width: int,
            header: str | None) -> str:
    def percent(us: float) -> str:
        return f"{100.0 * us / wall_us:.2f}%" if wall_us else "-"

    with_shapes = any(row.input_shapes is not None for row in rows)
    titles = ["Name", "Phase", "Self CPU %", "Self CPU", "CPU total %", "CPU total",
              "CPU time avg", "# of Calls"] + (["Input Shapes"] if with_shapes else [])
    cells = []
    for row in rows:
        name = row.key if len(row.key) <= name_width else row.key[:name_width - 3] + "..."
        line = [name, row.phase, percent(row.self_cpu_time_total),
                format_time(row.self_cpu_time_total), percent(row.cpu_time_total),
                format_time(row.cpu_time_total), format_time(row.cpu_time), str(row.count)]
        if with_shapes:
            line.append(_shapes_text(row.input_shapes))
        cells.append(line)
    widths = [max([len(t)] + [len(c[i]) for c in cells]) for i, t in enumerate(titles)]

    def layout(values: list[str]) -> str:
        # Names and shapes read left-aligned; numbers right-aligned so their units line up.
        parts = [v.ljust(w) if i == 0 or i == 8 else v.rjust(w)
                 for i, (v, w) in enumerate(zip(values, widths))]
        return "  ".join(parts).rstrip()

    rule = "-" * len(layout(["-" * w for w in widths]))
    lines = ([header] if header else []) + [rule, layout(titles), rule]
    lines += [layout(c) for c in cells]
    footer = f"Self CPU time total: {format_time(wall_us)} ({total_rows} rows, {len(rows)} shown)"
    lines += [rule, footer]
    return "\n".join(lines)
