"""Identity codes: the GB 32100 and GB 11714 check characters, the 15-digit 注册号 and normalising."""

from __future__ import annotations

import pytest

from qcity.registry import codes

# regulations.md §6: public test vectors passing both checks.
VALID = ["914403001922038216", "91110108551385082Q", "91440300708461136T"]
# Fujian pilot codes: real, but failing the 18th check character.
PILOT = ["91350100M0001TGQXM", "91350211M0000XUF46", "91350203M0001FUE2P"]


@pytest.mark.parametrize("code", VALID)
def test_it_accepts_the_published_test_vectors(code):
    assert codes.is_valid_uscc(code)
    assert codes.check_code(code) == codes.CodeCheck(code, kind="uscc")


def test_it_uses_the_weights_of_the_standard():
    assert codes.USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", VALID)
def test_it_refuses_a_vector_with_its_last_character_changed(code):
    last = "0" if code[-1] != "0" else "1"
    bad = code[:-1] + last
    assert not codes.is_valid_uscc(bad)
    assert codes.check_code(bad).error == codes.ERR_CHECK


def test_it_refuses_a_wrong_organisation_code_check_even_when_the_last_character_is_recomputed():
    # Change pos 17 (GB 11714 check) and recompute pos 18 so only the inner check fails.
    first17 = VALID[0][:16] + ("5" if VALID[0][16] != "5" else "6")
    code = first17 + codes.uscc_check_char(first17)
    assert not codes.is_valid_uscc(code)
    assert codes.check_code(code).error == codes.ERR_ORG_CHECK


@pytest.mark.parametrize("code", PILOT)
def test_it_keeps_fujian_pilot_codes_with_a_warning(code):
    assert not codes.is_valid_uscc(code)
    check = codes.check_code(code)
    assert check.ok and check.kind == "uscc" and check.warning == codes.WARN_PILOT
    assert "试点" in check.message


def test_a_non_pilot_code_failing_the_check_is_refused_not_warned():
    bad = "91211282MA0000007E"
    assert codes.check_code(bad).error == codes.ERR_CHECK


@pytest.mark.parametrize(
    "raw,error",
    [
        ("", codes.ERR_EMPTY),
        ("9121128", codes.ERR_LENGTH),
        ("91211282MA00000070X", codes.ERR_LENGTH),
        ("91211282MA0000OO7D", codes.ERR_CHARSET),  # letter O is not in the set
        ("91211282MA0000S07D", codes.ERR_CHARSET),
    ],
)
def test_it_refuses_malformed_codes_with_a_stable_error(raw, error):
    check = codes.check_code(raw)
    assert check.error == error and check.message and not check.ok


def test_the_15_digit_registration_number_is_kept_with_a_warning():
    assert codes.is_valid_reg_no("110108000000016")  # public example of GS15-2006
    check = codes.check_code("110108000000016")
    assert check.kind == "reg_no" and check.warning == codes.WARN_REG_NO
    assert codes.check_code("110108000000017").error == codes.ERR_REG_NO_CHECK


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("９１２１１２８２ＭＡ００００００７Ｄ", "91211282MA0000007D"),
        ("91211282ma0000007d", "91211282MA0000007D"),
        ("  91211282MA0000007D\u3000", "91211282MA0000007D"),
        ("9121 1282\tMA00 0000 7D", "91211282MA0000007D"),
    ],
)
def test_it_normalises_messy_input(raw, expected):
    assert codes.normalise_code(raw) == expected


@pytest.mark.parametrize(
    "kind,category", [("enterprise", "1"), ("individual", "2"), ("cooperative", "3")]
)
def test_make_uscc_generates_valid_distinct_codes(kind, category):
    made = {codes.make_uscc("211282", serial, kind) for serial in range(0, 5000, 7)}
    assert len(made) == len(range(0, 5000, 7))
    for code in made:
        assert codes.is_valid_uscc(code) and code[1] == category and code[2:8] == "211282"


def test_make_uscc_refuses_a_bad_region():
    with pytest.raises(ValueError):
        codes.make_uscc("开原市", 1)


def test_make_reg_no_generates_valid_numbers():
    for serial in (0, 1, 99, 1234567):
        assert codes.is_valid_reg_no(codes.make_reg_no("211282", serial))
