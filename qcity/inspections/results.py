"""Results (谁检查谁录入) and follow-ups. Owned by the tasks work; placeholder."""

from __future__ import annotations

from typing import Any


def is_assigned_inspector(user, task) -> bool:
    return False


def validate_result(task, user, **params: Any) -> dict[str, Any] | None:
    raise NotImplementedError("results are being built")


def apply_result(task, user, **params: Any) -> dict[str, Any] | None:
    raise NotImplementedError("results are being built")


def validate_complete(batch, user, **params: Any) -> dict[str, Any] | None:
    raise NotImplementedError("results are being built")


def validate_close(follow_up, user, **params: Any) -> dict[str, Any] | None:
    raise NotImplementedError("follow-ups are being built")


def apply_close(follow_up, user, **params: Any) -> dict[str, Any] | None:
    raise NotImplementedError("follow-ups are being built")
