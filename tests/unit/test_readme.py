"""The README's operations table names every command the registry offers."""

from __future__ import annotations

import re
from pathlib import Path

from bot.operations.loader import load_operations

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_command_is_in_the_operations_table() -> None:
    table = README[README.index("| command | back ends |"):]
    table = table[: table.index("\n\n")]
    first_cells = [line.split(" | ")[0] for line in table.splitlines()]
    cells = " ".join(" ".join(re.findall(r"`([^`]*)`", cell)) for cell in first_cells)
    words = set(re.split(r"[\s|/\\\\]+", cells))
    missing = []
    for command in load_operations().commands():
        head, *rest = command.split()
        if head not in words or any(part not in words for part in rest):
            missing.append(command)
    assert missing == []
