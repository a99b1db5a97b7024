from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from duban.orgs.models import Kind, Level, OrgUnit


class UnitForm(forms.ModelForm):
    class Meta:
        model = OrgUnit
        fields = ["name_zh", "name_en", "level", "kind", "sort_order", "is_active"]


class NewUnitForm(forms.ModelForm):
    class Meta:
        model = OrgUnit
        fields = ["code", "name_zh", "name_en", "level", "kind", "sort_order"]


class MoveForm(forms.Form):
    parent = forms.CharField(label=_("new parent unit (code)"), max_length=32)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))


class TreeImportForm(forms.Form):
    file = forms.FileField(label=_("tree file"))
    format = forms.ChoiceField(label=_("format"), choices=[("csv", "CSV"), ("yaml", "YAML")])


__all__ = ["Kind", "Level", "MoveForm", "NewUnitForm", "TreeImportForm", "UnitForm"]
