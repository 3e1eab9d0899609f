"""Unit tests for app.domain.idkey: the keyed hash feed records are matched by."""

import base64
import hashlib
import hmac
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import idkey

SECRET = "a-test-secret-of-enough-length"
NUMBER = "440115199007237653"


def test_key_is_base64url_hmac_sha256_without_padding():
    """The key is HMAC-SHA256 in base64url, so SQL (pgcrypto) or another system can compute the same key."""
    expected = base64.urlsafe_b64encode(
        hmac.new(SECRET.encode(), NUMBER.encode(), hashlib.sha256).digest()
    ).decode().rstrip("=")
    assert idkey.id_key(NUMBER, SECRET) == expected
    assert len(expected) == idkey.KEY_LENGTH == 43


def test_key_never_contains_the_plain_number():
    """Nobody reading a feed record sees the ID number or a piece of it."""
    key = idkey.id_key(NUMBER, SECRET)
    assert NUMBER not in key and NUMBER[-6:] not in key
    assert set(key) <= set(string.ascii_letters + string.digits + "-_")


def test_same_number_same_key_str_or_bytes_secret():
    """A staff member and their test record get the same key whether the secret comes as text or bytes."""
    assert idkey.id_key(NUMBER, SECRET) == idkey.id_key(NUMBER, SECRET.encode())
    assert idkey.keyer(SECRET)(NUMBER) == idkey.id_key(NUMBER, SECRET)


def test_other_secret_other_key():
    """Records keyed under another deployment's secret do not match here."""
    assert idkey.id_key(NUMBER, SECRET) != idkey.id_key(NUMBER, SECRET + "2")


@given(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20))
def test_distinct_numbers_distinct_keys(a, b):
    """Two different ID numbers never share a key (no false matches)."""
    if a != b:
        assert idkey.id_key(a, SECRET) != idkey.id_key(b, SECRET)


def test_short_secret_and_empty_number_are_refused():
    """A weak secret or a blank number is a programming error, not a silent match."""
    with pytest.raises(ValueError):
        idkey.id_key(NUMBER, "short")
    with pytest.raises(ValueError):
        idkey.id_key("", SECRET)
    with pytest.raises(ValueError):
        idkey.keyer(SECRET)("")


def test_keyring_gives_one_key_per_configured_secret():
    """During a rotation a staff member matches records under the new and the previous secret."""
    keys = idkey.id_keys(NUMBER, [SECRET, None, SECRET + "-old"])
    assert keys == (idkey.id_key(NUMBER, SECRET), idkey.id_key(NUMBER, SECRET + "-old"))


def test_fingerprint_names_a_secret_without_revealing_it():
    """A changed ID_HASH_KEY is noticed (fingerprint differs) while the secret stays hidden."""
    fp = idkey.key_fingerprint(SECRET)
    assert len(fp) == 12 and SECRET[:6] not in fp
    assert fp == idkey.key_fingerprint(SECRET.encode())
    assert fp != idkey.key_fingerprint(SECRET + "x")


def test_phone_keys_have_a_secret_of_their_own():
    """A phone and an ID number of the same characters never share a key; phones key the same everywhere."""
    phone = "13576266263"
    secret = idkey.phone_secret(SECRET)
    assert len(secret) == 32 and secret == idkey.phone_secret(SECRET.encode())
    assert idkey.keyer(secret)(phone) != idkey.id_key(phone, SECRET)
    assert idkey.keyer(secret)(phone) == idkey.id_key(phone, secret) != idkey.id_key(phone, idkey.phone_secret("x" * 16))
    with pytest.raises(ValueError):
        idkey.phone_secret("short")
