"""What a user account needs (app/security/accounts.py) and the password policy
(app/security/passwords.py), as pure rules."""
from __future__ import annotations

import pytest
from flask_appbuilder.exceptions import PasswordComplexityValidationError

from app.security import accounts
from app.security import roles as R
from app.security.passwords import password_problems, policy_description, validate_password


def problems(roles, adding=True, bureau=False, town=False, phone=False):
    return [str(p) for p in accounts.role_problems(roles, adding=adding, has_bureau=bureau, has_town=town,
                                                   has_phone=phone)]


def test_an_account_needs_a_role():
    assert problems([]) == ["请选择角色"]


def test_bureau_and_town_accounts_need_their_bureau_and_town():
    """Without them the account would see no row at all: the form says what is missing."""
    assert problems([R.BUREAU]) == ["委办局账号请选择委办局"]
    assert problems([R.TOWN]) == ["镇街账号请选择镇街"]
    assert problems([R.BUREAU], bureau=True) == [] and problems([R.TOWN], town=True) == []
    assert problems([R.TASKFORCE]) == [] and problems([R.DISTRICT_ADMIN]) == []


def test_head_accounts_are_not_created_by_hand_nor_mixed():
    """A head's account comes from their first SMS login; edited, it keeps one role and its phone."""
    assert problems([R.ENTERPRISE_HEAD], phone=True) == ["企业负责人账号在其首次短信登录时自动创建，不能在此新增"]
    assert problems([R.ENTERPRISE_HEAD, R.TOWN], adding=False, town=True, phone=True) == ["企业负责人不能同时拥有其他角色"]
    assert problems([R.ENTERPRISE_HEAD], adding=False) == ["企业负责人账号须填写手机号码"]
    assert problems([R.ENTERPRISE_HEAD], adding=False, phone=True) == []


def test_only_enterprise_heads_have_no_password():
    assert not accounts.has_password([R.ENTERPRISE_HEAD])
    for role in R.ROLE_LABELS:
        if role != R.ENTERPRISE_HEAD:
            assert accounts.has_password([role])


def test_placeholder_email_and_audited_values():
    """FAB's required e-mail is filled for accounts without one; the audit keeps no password, a masked phone."""
    assert accounts.placeholder_email("town_x") == "town_x@users.invalid"
    assert accounts.is_placeholder_email("town_x@users.invalid") and accounts.is_placeholder_email("")
    assert not accounts.is_placeholder_email("admin@sentinel.invalid")
    kept = accounts.audit_view({"username": "u", "password": "secret-hash", "phone": "13800138000"})
    assert kept == {"username": "u", "phone": "138****8000"}


@pytest.mark.parametrize("password, missing", [
    ("Short#1a", ["至少10个字符"]),
    ("alllowercase#1", ["包含大写字母"]),
    ("ALLUPPERCASE#1", ["包含小写字母"]),
    ("NoDigitsHere#", ["包含数字"]),
    ("NoSpecial123a", ["包含特殊字符"]),
    ("", ["至少10个字符", "包含大写字母", "包含小写字母", "包含数字", "包含特殊字符"]),
])
def test_weak_passwords_are_refused_saying_what_is_missing(password, missing):
    assert password_problems(password) == missing
    with pytest.raises(PasswordComplexityValidationError) as err:
        validate_password(password)
    assert str(err.value) == "密码强度不足：需要" + "、".join(missing)


def test_a_strong_password_passes_and_the_policy_names_every_rule():
    validate_password("Sentinel#2026")
    assert policy_description() == "密码要求：至少10个字符、包含大写字母、包含小写字母、包含数字、包含特殊字符"
