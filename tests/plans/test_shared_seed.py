"""The project's copies of the seed agree with the shared reference folder.

Collected only when QCITY_SEED_DIR names that folder (see tests/conftest.py); the
rest of the suite needs nothing outside the repository.
"""

import json

from tests.conftest import BUNDLED_SEED, EXPECTED, SEED_DIR


def test_the_bundled_seed_is_the_shared_seed():
    assert BUNDLED_SEED.read_bytes() == (SEED_DIR / BUNDLED_SEED.name).read_bytes()


def test_the_expected_structure_states_the_same_facts_as_the_shared_truth_file():
    shared = SEED_DIR / "tieling-quality-city-plan-2023.truth.json"
    assert json.loads(EXPECTED.read_text(encoding="utf-8")) == json.loads(
        shared.read_text(encoding="utf-8")
    )
