"""What `mastowizard migrate` says: the inventory and how the files are read, before the question."""

from __future__ import annotations

from ..migrate.inventory import Inventory
from ..migrate.run import inventory_lines
from ..settings import Settings


def show_inventory(inv: Inventory, how: str, settings: Settings, notes: list[str]) -> None:
    """The settings' notes, what is on disk (inventory_lines) and how its files are read, on stdout."""
    for n in notes:
        print(f"note: {n}")
    print("\n".join(inventory_lines(inv, settings)))
    print(f"files: {how}")
