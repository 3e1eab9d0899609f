"""Claims of a token string verified before are handed back only while its time claims
hold (app/security/verified_tokens.py); the least recently used are dropped."""
from __future__ import annotations

from app.security.verified_tokens import VerifiedTokens

NOW = 1_800_000_000.0


def test_kept_claims_come_back_until_the_token_expires():
    kept = VerifiedTokens()
    kept.keep("a.b.c", None, {"sub": "7", "exp": NOW + 60})
    assert kept.get("a.b.c", None, leeway=0, now=NOW) == {"sub": "7", "exp": NOW + 60}
    assert kept.get("a.b.c", None, leeway=0, now=NOW + 60) is None  # exp <= now: expired, as PyJWT says
    assert kept.get("a.b.c", None, leeway=0, now=NOW) is None  # and forgotten: the next use decodes it


def test_the_leeway_and_not_before_are_those_of_the_full_check():
    kept = VerifiedTokens()
    kept.keep("t", None, {"exp": NOW, "nbf": NOW - 10})
    assert kept.get("t", None, leeway=5, now=NOW + 4) is not None
    kept.keep("early", None, {"nbf": NOW + 30})
    assert kept.get("early", None, leeway=0, now=NOW) is None


def test_a_string_is_kept_with_the_csrf_value_it_was_checked_against():
    kept = VerifiedTokens()
    kept.keep("t", "csrf-1", {"sub": "7"})
    assert kept.get("t", "csrf-2", leeway=0, now=NOW) is None
    assert kept.get("t.", "csrf-1", leeway=0, now=NOW) is None  # any other string: decoded in full
    assert kept.get("t", "csrf-1", leeway=0, now=NOW) == {"sub": "7"}


def test_a_copy_is_handed_out_and_the_oldest_are_dropped():
    kept = VerifiedTokens(size=2)
    kept.keep("one", None, {"sub": "1"})
    kept.get("one", None, leeway=0, now=NOW)["sub"] = "changed"
    assert kept.get("one", None, leeway=0, now=NOW) == {"sub": "1"}
    kept.keep("two", None, {"sub": "2"})
    kept.get("one", None, leeway=0, now=NOW)  # used: "two" is now the oldest
    kept.keep("three", None, {"sub": "3"})
    assert kept.get("two", None, leeway=0, now=NOW) is None
    assert kept.get("one", None, leeway=0, now=NOW) is not None


def test_the_header_is_kept_with_a_verified_string_only():
    kept = VerifiedTokens(size=2)
    assert kept.header("a.b.c") is None
    kept.keep("a.b.c", None, {"sub": "7"}, {"alg": "HS256", "typ": "JWT"})
    kept.header("a.b.c")["alg"] = "none"  # a copy is handed out
    assert kept.header("a.b.c") == {"alg": "HS256", "typ": "JWT"}
    assert kept.header("a.b.c.") is None  # any other string: parsed as before
    kept.keep("two", None, {}, {"alg": "HS256"})
    kept.keep("three", None, {}, {"alg": "HS256"})
    assert kept.header("a.b.c") is None  # the least recently used are dropped
