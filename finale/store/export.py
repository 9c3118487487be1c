"""Table rows for export, private tokens left out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from finale.store.store import Store


def iter_rows(store: Store, table: str) -> Iterable[dict[str, Any]]:
    """Rows of a table, for export; private tokens are never included."""
    columns = [c.name for c in store.db[table].columns if c.name != "token"]  # type: ignore[union-attr]
    quoted = ", ".join(f'"{c}"' for c in columns)
    return store.db.query(f"SELECT {quoted} FROM {table}")
