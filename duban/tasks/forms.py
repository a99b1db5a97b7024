"""Page forms. They check shapes only; the services check rights and rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from duban.orgs.models import OrgUnit
from duban.tasks.models import GoalStep, Milestone, Task

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class UnitChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:  # type: ignore[override]
        return f"{'· ' * obj.depth}{obj.name} ({obj.code})"


class UnitsChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:  # type: ignore[override]
        return f"{'· ' * obj.depth}{obj.name} ({obj.code})"


class TaskForm(forms.ModelForm):
    issuing_unit = UnitChoice(queryset=OrgUnit.objects.none(), label=_("issuing unit"))
    lead_unit = UnitChoice(queryset=OrgUnit.objects.none(), label=_("lead unit"))
    partners = UnitsChoice(
        queryset=OrgUnit.objects.none(),
        required=False,
        label=_("co-operating units"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = Task
        fields = [
            "kind",
            "title",
            "description",
            "expected_result",
            "issuing_unit",
            "lead_unit",
            "partners",
            "responsible",
            "start_date",
            "due_date",
            "tags",
            "goal_step",
            "indicator_code",
            "indicator_target",
            "indicator_higher_is_better",
        ]
        widgets = {
            "start_date": DATE,
            "due_date": DATE,
            "description": forms.Textarea(attrs={"rows": 3}),
            "expected_result": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(
        self, *args: Any, issuers: Any, units: Any, editing: bool = False, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.fields["issuing_unit"].queryset = issuers  # type: ignore[attr-defined]
        self.fields["lead_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["partners"].queryset = units  # type: ignore[attr-defined]
        self.fields["goal_step"].queryset = GoalStep.objects.filter(  # type: ignore[attr-defined]
            goal__unit__in=issuers
        ).select_related("goal")
        self.fields["goal_step"].required = False
        if editing:
            del self.fields["issuing_unit"]

    def _post_clean(self) -> None:
        """Model validation happens in the service, which names every field."""


class MilestoneForm(forms.ModelForm):
    seq = forms.IntegerField(label=_("order"), required=False, min_value=1, max_value=999)

    class Meta:
        model = Milestone
        fields = ["seq", "title", "due_date", "deliverable", "owner"]
        widgets = {"due_date": DATE}

    def _post_clean(self) -> None:
        pass


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ReportForm(forms.Form):
    unit = UnitChoice(queryset=OrgUnit.objects.none(), label=_("reporting unit"))
    text = forms.CharField(label=_("progress"), widget=forms.Textarea(attrs={"rows": 4}))
    percent = forms.IntegerField(
        label=_("percent done"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("Required from the lead unit."),
    )
    problems = forms.CharField(
        label=_("problems"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_steps = forms.CharField(
        label=_("next steps"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    milestone = forms.ModelChoiceField(
        queryset=Milestone.objects.none(), required=False, label=_("for milestone")
    )
    milestone_met = forms.BooleanField(required=False, label=_("this milestone is met (lead unit)"))
    files = MultipleFileField(required=False, label=_("evidence files"))  # type: ignore[assignment]

    def __init__(self, *args: Any, units: list[OrgUnit], task: Task, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["unit"].queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in units])  # type: ignore[attr-defined]
        if units:
            self.fields["unit"].initial = units[0].pk
        self.fields["milestone"].queryset = task.milestones.filter(met_on__isnull=True)  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))


class SupervisionForm(forms.Form):
    message = forms.CharField(
        label=_("what the lead unit must do"), widget=forms.Textarea(attrs={"rows": 3})
    )
    reply_days = forms.IntegerField(
        label=_("reply within (days)"), min_value=1, max_value=90, initial=5
    )
    milestone = forms.ModelChoiceField(
        queryset=Milestone.objects.none(), required=False, label=_("about milestone")
    )

    def __init__(self, *args: Any, task: Task, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["milestone"].queryset = task.milestones.all()  # type: ignore[attr-defined]


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("reply"), widget=forms.Textarea(attrs={"rows": 3}))


class GoalForm(forms.Form):
    unit = UnitChoice(queryset=OrgUnit.objects.none(), label=_("issuing unit"))
    title = forms.CharField(label=_("title"), max_length=200)
    first_year = forms.IntegerField(label=_("first year"), min_value=2000, max_value=2100)
    aims = forms.CharField(
        label=_("aim of each year"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One line per year."),
    )
    description = forms.CharField(
        label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, units: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class LedgerFilterForm(forms.Form):
    issuer = forms.CharField(required=False, label=_("issuing unit (code)"))
    lead = forms.CharField(required=False, label=_("lead unit (code)"))
    scope = forms.CharField(required=False, label=_("issued by or led within (code)"))
    status = forms.ChoiceField(required=False, label=_("status"))
    kind = forms.ChoiceField(required=False, label=_("kind"))
    month = forms.CharField(
        required=False,
        label=_("month"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": _("e.g. 2017-07")}),
    )
    tag = forms.CharField(required=False, label=_("tag"))
    q = forms.CharField(required=False, label=_("search"))
    on = forms.DateField(required=False, label=_("as of"), widget=DATE)
