"""The module table: one row per module configuration, gathered from every file in this folder
(one file per area, each with a ``CASES`` list), so an area adds a file and edits no other."""

from __future__ import annotations

import importlib
import pkgutil

from moduletable.spec import Case

CASES: list[Case] = [
    case
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name) if info.name != "spec"
    for case in importlib.import_module(f"moduletable.{info.name}").CASES
]
