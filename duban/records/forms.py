"""The upload form of the record import."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from duban.orgs.models import OrgUnit


class UploadForm(forms.Form):
    unit = forms.ChoiceField(
        label=_("records of"), help_text=_("the unit whose units below the file holds")
    )
    file = forms.FileField(
        label=_("file"), help_text=_("CSV (UTF-8 or GB18030) or Parquet, one record a row")
    )

    def __init__(self, *args: Any, units: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = {u.code: u for u in units}
        self.fields["unit"].choices = [(u.code, u.name) for u in units]  # type: ignore[attr-defined]
