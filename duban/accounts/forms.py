from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from duban.orgs.models import Role


class AccountForm(forms.Form):
    username = forms.CharField(label=_("user name"), max_length=150)
    full_name = forms.CharField(label=_("full name"), max_length=100, required=False)
    password = forms.CharField(label=_("initial password"), widget=forms.PasswordInput)
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)


class GrantForm(forms.Form):
    username = forms.CharField(label=_("user name"), max_length=150)
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)


class CodeForm(forms.Form):
    """A code from the authenticator app (six digits) or, at sign-in, a recovery code."""

    code = forms.CharField(
        label=_("verification code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )
