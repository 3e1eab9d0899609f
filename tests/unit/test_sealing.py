"""Unit tests for app.domain.sealing: how staff ID numbers and phones are kept at rest."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.sealing import SCHEME, Keyring, SealError, key_id, key_id_of

OLD, NEW = "the-old-data-key-of-enough-length", "the-new-data-key-of-enough-length"
NUMBER, PHONE = "440115199007237653", "13576266263"
ID_COLUMN, PHONE_COLUMN = b"staff.id_number", b"staff.phone"


def test_a_sealed_value_shows_nothing_of_the_plain_one_and_opens_to_it():
    """What the database holds names its key and hides the number; the app reads the number back."""
    ring = Keyring(NEW)
    sealed = ring.seal(NUMBER, ID_COLUMN)
    scheme, kid, payload = sealed.split(":")
    assert (scheme, kid) == (SCHEME, key_id(NEW)) and len(kid) == 8
    assert NUMBER not in sealed and NUMBER[-6:] not in sealed and NUMBER[:6] not in sealed
    assert NUMBER.encode() not in base64.b64decode(payload)
    assert ring.open(sealed, ID_COLUMN) == NUMBER
    assert len(sealed) <= 128  # the column's size, for the longest numbers too
    assert len(ring.seal("X" * 32, ID_COLUMN)) <= 128


def test_equal_values_seal_differently():
    """Two people with the same phone cannot be told apart (or counted) from the stored values."""
    ring = Keyring(NEW)
    assert ring.seal(PHONE, PHONE_COLUMN) != ring.seal(PHONE, PHONE_COLUMN)


def test_none_stays_none_and_empty_text_is_sealed():
    """A person without a phone stores NULL; an empty value is sealed like any other."""
    ring = Keyring(NEW)
    assert ring.seal(None, PHONE_COLUMN) is None and ring.open(None, PHONE_COLUMN) is None
    assert ring.open(ring.seal("", PHONE_COLUMN), PHONE_COLUMN) == ""


def test_a_value_moved_to_another_column_does_not_open():
    """Someone with database access copying a sealed ID number over a phone gets an error, not the number."""
    ring = Keyring(NEW)
    with pytest.raises(SealError):
        ring.open(ring.seal(NUMBER, ID_COLUMN), PHONE_COLUMN)


@pytest.mark.parametrize("position", [8, 20, 40, 60, -1])
def test_an_altered_value_does_not_open(position):
    """A changed character anywhere in the payload is noticed (GCM tag), never read as another number."""
    ring = Keyring(NEW)
    sealed = ring.seal(NUMBER, ID_COLUMN)
    i = position % len(sealed)
    altered = sealed[:i] + ("A" if sealed[i] != "A" else "B") + sealed[i + 1:]
    with pytest.raises(SealError):
        ring.open(altered, ID_COLUMN)


@pytest.mark.parametrize("stored", [NUMBER, "", "gcm1:short:abc", "gcm2:AAAAAAAA:AAAA"])
def test_plain_or_foreign_text_is_refused(stored):
    """A plain number written around the app is an error when read, not silently accepted."""
    with pytest.raises(SealError):
        Keyring(NEW).open(stored, ID_COLUMN)


def test_rotation_opens_old_values_and_seals_new_ones_with_the_new_key():
    """After a key change, values sealed with the old key still open while it is the previous one; new ones use the new key."""
    old_value = Keyring(OLD).seal(PHONE, PHONE_COLUMN)
    rotating = Keyring(NEW, [OLD])
    assert rotating.open(old_value, PHONE_COLUMN) == PHONE
    assert key_id_of(old_value) == key_id(OLD) != key_id(NEW) == key_id_of(rotating.seal(PHONE, PHONE_COLUMN))
    assert rotating.key_ids == (key_id(NEW), key_id(OLD))
    with pytest.raises(SealError) as missing:
        Keyring(NEW).open(old_value, PHONE_COLUMN)
    assert missing.value.unknown_key == key_id(OLD)


def test_key_ids_are_stable_and_secrets_must_be_long():
    """The same secret names the same key on every process; a short secret stops the app."""
    assert key_id(NEW) == key_id(NEW.encode()) and key_id(NEW) != key_id(OLD)
    assert NEW not in key_id(NEW)
    with pytest.raises(ValueError):
        Keyring("too-short")


@given(st.text(max_size=40))
def test_any_text_round_trips(value):
    """Whatever a number or phone holds (full-width, letters, spaces) comes back exactly."""
    ring = Keyring(NEW, [OLD])
    assert ring.open(ring.seal(value, ID_COLUMN), ID_COLUMN) == value
