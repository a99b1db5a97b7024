"""The password policy: long, not common, not like the names, three kinds of character."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from duban.accounts.models import User
from duban.accounts.passwords import character_classes


@pytest.mark.parametrize(
    ("password", "kinds"),
    [("aaaaaaaaaaaa", 1), ("1234567890", 1), ("abcdefGHIJ", 2), ("abcdef1234", 2),
     ("Abcdef1234", 3), ("abcdef12-!", 3), ("Duban-demo-2017", 4), ("警务督办abc12", 3)],
)  # fmt: skip
def test_character_classes(password: str, kinds: int) -> None:
    """Chinese characters count as symbols: neither capitals, small letters nor digits."""
    assert character_classes(password) == kinds


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaa", "Abc-12", "abcdefghij12", "password123", "zhangwei-2017A"]
)
def test_plain_short_common_or_name_like_passwords_are_refused(password: str) -> None:
    user = User(username="zhangwei", full_name="zhangwei")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_good_password_passes_and_the_refusal_is_in_chinese() -> None:
    user = User(username="zhangwei", full_name="张伟")
    validate_password("Lsz-2017-duban", user)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password("abcdefghijkl", user)
    assert "密码须至少包含大写字母、小写字母、数字、符号中的 3 类。" in refused.value.messages


@given(st.text(min_size=0, max_size=30))
def test_classes_are_between_zero_and_four_and_adding_characters_never_lowers_them(
    password: str,
) -> None:
    kinds = character_classes(password)
    assert 0 <= kinds <= 4
    assert character_classes(password + "aA1!") == 4
    assert character_classes(password + "x") >= kinds
