"""API of registry under /api/v1/ (one router, registered in qcity/api.py)."""

from ninja import Router

router = Router(tags=["registry"])
