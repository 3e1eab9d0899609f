"""The pass token: compact, signed (Ed25519), verified offline; tampered, truncated,
foreign-key and expired tokens refused; no personal data inside."""
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import pass_tokens as PT

NOW = datetime(2026, 5, 1, 4, 0)
RING = PT.PassKeyring.from_config("a-test-secret-of-at-least-thirty-two-chars")


def token(expires=NOW + timedelta(hours=24), ring=RING, tid=None):
    return ring.issue(tid or PT.new_token_id(), expires)


def test_a_token_verifies_offline_and_names_its_pass_and_key():
    """The checkpoint needs only the public keys and the clock."""
    tid = PT.new_token_id()
    claims = RING.verify(token(tid=tid), NOW)
    assert claims.token_id == tid and claims.key_id == RING.current_id
    assert claims.expires_at == NOW + timedelta(hours=24)


def test_a_token_is_compact_ascii_and_carries_no_personal_data():
    """It fits a small QR and holds only a version, key id, pass id, expiry, signature."""
    text = token()
    assert len(text) <= PT.MAX_LENGTH and text.isascii()
    version, kid, tid, expiry, signature = text.split(".")
    assert version == "P1" and len(kid) == 8 and len(tid) == 16 and len(signature) == 86


def test_signing_is_deterministic_so_a_pass_keeps_its_code():
    tid = PT.new_token_id()
    assert token(tid=tid) == token(tid=tid)


def test_an_expired_token_is_refused_as_expired():
    text = token(expires=NOW)
    with pytest.raises(PT.ExpiredToken):
        RING.verify(text, NOW)
    assert RING.verify(text, NOW - timedelta(seconds=1))


def test_a_token_of_a_foreign_key_is_refused():
    """Another deployment's (or an attacker's) key: unknown key id, or a forged one."""
    other = PT.PassKeyring(Ed25519PrivateKey.generate())
    with pytest.raises(PT.InvalidToken):
        RING.verify(token(ring=other), NOW)
    # the attacker claims our key id but signs with theirs
    forged = token(ring=other).split(".")
    forged[1] = RING.current_id
    with pytest.raises(PT.InvalidToken):
        RING.verify(".".join(forged), NOW)


@pytest.mark.parametrize("cut", [1, 10, 40, 90])
def test_a_truncated_token_is_refused(cut):
    with pytest.raises(PT.InvalidToken):
        RING.verify(token()[:-cut], NOW)


def test_a_later_expiry_written_into_the_token_breaks_the_signature():
    parts = token().split(".")
    parts[3] = PT._base36(int(parts[3], 36) + 86400 * 30)
    with pytest.raises(PT.InvalidToken) as err:
        RING.verify(".".join(parts), NOW)
    assert not isinstance(err.value, PT.ExpiredToken)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_any_single_byte_change_is_refused(position, value):
    text = token()
    i = position % len(text)
    changed = text[:i] + chr(32 + value % 95) + text[i + 1:]
    if changed == text:
        return
    with pytest.raises(PT.InvalidToken):
        RING.verify(changed, NOW)


def test_a_signature_spelled_differently_is_refused():
    """The last character of the signature carries 4 unused bits: a code whose last
    character differs only there (same bytes once decoded) is still not a valid code."""
    text = token()
    last = text[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twins = [c for c in alphabet if c != last and alphabet.index(c) >> 4 == alphabet.index(last) >> 4]
    assert twins
    for twin in twins:
        with pytest.raises(PT.InvalidToken):
            RING.verify(text[:-1] + twin, NOW)


@pytest.mark.parametrize("junk", ["", "P1", "P1....", "x" * 500, "P2." + "a" * 120, None, 12345])
def test_junk_is_refused_not_crashed(junk):
    with pytest.raises(PT.InvalidToken):
        RING.verify(junk, NOW)


def test_rotation_keeps_verifying_passes_of_the_previous_key():
    """After a rotation the new key signs; the old key's passes verify until they expire."""
    old_secret = "an-old-secret-of-at-least-thirty-two-chars!"
    old = PT.PassKeyring.from_config(old_secret)
    new = PT.PassKeyring.from_config("a-new-secret-of-at-least-thirty-two-chars!", previous_secrets=old_secret)
    assert new.current_id != old.current_id
    assert new.verify(token(ring=old), NOW).key_id == old.current_id
    published = [k["kid"] for k in new.jwks()["keys"]]
    assert published == [new.current_id, old.current_id]
    # a checkpoint app may also be given the old public key alone
    x = old.jwks()["keys"][0]["x"]
    verifier = PT.PassKeyring.from_config("yet-another-secret-of-thirty-two-chars!", previous_public=x)
    assert verifier.verify(token(ring=old), NOW)


def test_a_pem_private_key_is_accepted_and_a_short_secret_refused():
    from cryptography.hazmat.primitives import serialization

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    ring = PT.PassKeyring.from_config(pem)
    assert ring.current_id == PT.key_id(key.public_key())
    assert "BEGIN PUBLIC KEY" in ring.pem()
    with pytest.raises(ValueError):
        PT.PassKeyring.from_config("short")


def test_aware_times_are_accepted():
    text = token(expires=datetime(2026, 5, 2, 12, 0, tzinfo=timezone(timedelta(hours=8))))
    assert RING.verify(text, NOW).expires_at == datetime(2026, 5, 2, 4, 0)
