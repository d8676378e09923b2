"""Assignment of inspectors with recusal. Owned by the assignment work; placeholder."""

from __future__ import annotations

from typing import Any


def apply_assignment(batch, user, **params: Any) -> dict[str, Any] | None:
    raise NotImplementedError("assignment is being built")
