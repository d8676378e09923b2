"""Schemathesis over the OpenAPI document the app serves (issue 6, items 5 and 6).

The schema is loaded from the app itself (``/api/v1/openapi.json`` through the WSGI
handler, in process: the test server only, never a network address). Each operation
becomes one test that runs schemathesis' phases on it: the coverage phase (boundary
values: the largest allowed ``offset`` and one past it, wrong types, missing and
duplicated parameters, methods the path does not allow) and the fuzzing phase
(valid and invalid requests drawn at random). Requests carry the bearer token of
the coordinator, who sees all the seed data. No response may be a server error,
every status must be documented for its operation, and every body must match the
documented schema and media type.

Bounded and repeatable: a fixed seed, ``QCITY_FUZZ_EXAMPLES`` fuzzed requests per
operation (default 30) and no example database, so a run on SQLite and one on
PostgreSQL send the same requests.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from qcity.core.services import issue_api_token
from qcity.metrics.services import load_default_indicators

SEED = 20261128
MAX_EXAMPLES = int(os.environ.get("QCITY_FUZZ_EXAMPLES", "30"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "allow-x00": True,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


_handler = WSGIHandler()


def app(environ, start_response):
    """Django's WSGI handler, minus closing the database connection after each request.

    The test's data lives in the test's open transaction; closing the connection (as
    ``close_old_connections`` does at the end of every request) would lose it, so
    this does what Django's own test client does.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = _handler(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Loaded while the tests are collected: the schema endpoint reads no database. (The
# lazy ``schemathesis.pytest.from_fixture`` does not work with pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


@pytest.fixture
def bearer(plan, personas) -> dict[str, str]:
    # The indicator catalogue, so that value entry meets real indicators, not only 404s.
    load_default_indicators()
    token = issue_api_token(personas["coordinator"], name="fuzz", by=personas["secadmin"])
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.django_db
@schema.parametrize()
# Sharing the data across inputs is sound: the only writes (unit steps, indicator values)
# are refused or idempotent for the properties checked here.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_the_api_answers_every_generated_request_as_documented(case, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)


def test_the_fuzzed_document_lists_every_read_endpoint():
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert {
        "GET /api/v1/org-units",
        "GET /api/v1/org-units/{unit_id}",
        "GET /api/v1/plans",
        "GET /api/v1/plans/{plan_id}",
        "GET /api/v1/plans/{plan_id}/chapters",
        "GET /api/v1/plans/{plan_id}/targets",
        "GET /api/v1/measures",
        "GET /api/v1/measures/{measure_id}",
        "GET /api/v1/indicators",
        "GET /api/v1/indicators/{indicator_id}",
        "GET /api/v1/indicators/{indicator_id}/values",
        "POST /api/v1/indicators/{indicator_id}/values",
        "GET /api/v1/plans/{plan_id}/target-status",
        "GET /api/v1/plans/{plan_id}/targets/status",
        "POST /api/v1/indicators/{indicator_id}/values/with-evidence",
        "GET /api/v1/indicators/{indicator_id}/values/{value_id}/revisions",
        "GET /api/v1/targets/{target_id}/status",
    } <= labels
