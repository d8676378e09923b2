"""The reproducible draw (docs/draw-algorithm.md). Owned by the draw work; placeholder."""

from __future__ import annotations

from typing import Any


def validate_draw(batch, user, **params: Any) -> dict[str, Any] | None:
    raise NotImplementedError("the draw is being built")


def apply_draw(batch, user, **params: Any) -> dict[str, Any] | None:
    raise NotImplementedError("the draw is being built")
