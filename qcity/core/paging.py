"""Paging for every list in the JSON API: ``limit``/``offset`` with documented bounds.

ninja's own ``LimitOffsetPagination`` leaves ``offset`` (and, by default, ``limit``)
unbounded, so a value past 64 bits reached the database and failed there (500).
Out-of-range values are now refused by validation: 422 ``invalid_request``.
"""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Far beyond any list we hold, and within every database's integer range for OFFSET.
MAX_OFFSET = 2_147_483_647


class LimitOffset(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(
            DEFAULT_LIMIT,
            ge=1,
            le=MAX_LIMIT,
            description=f"每页条数，1–{MAX_LIMIT}，默认 {DEFAULT_LIMIT}",
        )
        offset: int = Field(
            0, ge=0, le=MAX_OFFSET, description=f"跳过的条数，0–{MAX_OFFSET}，默认 0"
        )
