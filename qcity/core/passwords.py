from __future__ import annotations

import string

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with its message in Chinese.

    Django 5.2 changed the message's msgid (``%d`` for ``%(min_length)d``) and its
    zh_Hans catalogue has not caught up, so the refusal appeared in English on the
    password page and in ``create_admin``.
    """

    def get_error_message(self) -> str:
        return _("密码太短，至少需要 %(n)d 个字符。") % {"n": self.min_length}


class CharacterClassValidator:
    """Require characters from several classes (digits, lower, upper, symbols)."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        classes = [
            any(c.isdigit() for c in password),
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c in string.punctuation or not c.isalnum() for c in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(
                _("密码须至少包含数字、小写字母、大写字母、符号中的 %(n)d 类。")
                % {"n": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("密码须至少包含数字、小写字母、大写字母、符号中的 %(n)d 类。") % {
            "n": self.min_classes
        }


class NotCurrentOrDemoPasswordValidator:
    """Refuse the account's current password and, outside demo mode, the demo password.

    A forced change after "重置为临时密码" must leave a password the security
    admin does not know, so the new one may not be the current (temporary) one.
    The demo password is printed in the README: accepted only where demo data is.
    The check reads the stored hash without the upgrade-on-check setter, so a
    refused attempt never rewrites the stored password.
    """

    def validate(self, password: str, user=None) -> None:
        from django.conf import settings
        from django.contrib.auth.hashers import check_password

        from qcity.core.demo import DEMO_PASSWORD

        stored = getattr(user, "password", "") or ""
        if stored and check_password(password, stored):
            raise ValidationError(
                _("新密码不能与当前密码（包括安全管理员发放的临时密码）相同。"),
                code="password_unchanged",
            )
        if password == DEMO_PASSWORD and not settings.QCITY_DEMO_DATA:
            raise ValidationError(
                _("不能使用公开的演示密码。"),
                code="password_is_demo",
            )

    def get_help_text(self) -> str:
        return _("新密码不能与当前密码或临时密码相同。")
