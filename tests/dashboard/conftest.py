"""The reporting tests' fixtures, reused: a plan's county reporter."""

from tests.reporting.conftest import county_reporter  # noqa: F401 (a fixture)
