"""The 12315 JSON API (/api/v1/complaints/…): intake with Idempotency-Key, cases, steps."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["complaints"])
