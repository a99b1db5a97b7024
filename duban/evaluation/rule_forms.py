"""One Django form per rule kind (``FORMS``, keyed by kind), its fields named as a published
rule names them (每低1个百分点扣__分). A form only shapes the mapping (``to_rule``): the engine
(``services.update_item`` → ``rule_from_dict``) still checks it, so the form and a YAML file
can never disagree on what a rule means."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from duban.evaluation.rule_words import KIND_NAMES

BAND_ROWS = 5
CLASS_ROWS = 5


def _number(label: Any, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=required, min_value=Decimal(0))


class RuleForm(forms.Form):
    """A rule kind's parameters; ``to_rule`` (after ``is_valid``) gives the stored mapping."""

    kind: ClassVar[str] = ""

    def to_rule(self) -> dict[str, object]:
        data = {k: v for k, v in self.cleaned_data.items() if v is not None and v != ""}
        return {"kind": self.kind, **{k: _text(v) for k, v in data.items()}}

    @classmethod
    def initial_for(cls, rule: Mapping[str, object]) -> dict[str, object]:
        """The form's initial values from a stored rule of this kind."""
        return {k: v for k, v in rule.items() if k != "kind" and not isinstance(v, list | dict)}


def _text(value: object) -> object:
    return value


FORMS: dict[str, type[RuleForm]] = {}


def register(cls: type[RuleForm]) -> type[RuleForm]:
    FORMS[cls.kind] = cls
    return cls


@register
class AttainmentForm(RuleForm):
    kind = "attainment"
    cap = forms.DecimalField(
        label=_("Completion counted up to (times the target, e.g. 1 = 100%)"),
        required=False,
        min_value=Decimal("0.0001"),
        help_text=_("Leave empty for no cap."),
    )

    def to_rule(self) -> dict[str, object]:
        cap = self.cleaned_data.get("cap")
        return {"kind": self.kind, "cap": "none" if cap is None else cap}

    @classmethod
    def initial_for(cls, rule: Mapping[str, object]) -> dict[str, object]:
        cap = rule.get("cap", 1)
        return {"cap": None if str(cap).lower() == "none" else cap}


@register
class ShortfallForm(RuleForm):
    kind = "shortfall"
    per_point = _number(_("Points off for each point short"))
    basis = forms.ChoiceField(
        label=_("Points short of"),
        choices=[
            ("completion", _("the completion rate")),
            ("value", _("the target value (the indicator is a rate)")),
        ],
        initial="completion",
    )

    def to_rule(self) -> dict[str, object]:
        rule = super().to_rule()
        if rule.get("basis") == "completion":
            rule.pop("basis")
        return rule


@register
class StepsForm(RuleForm):
    kind = "steps"
    basis = forms.ChoiceField(
        label=_("Bands of"),
        choices=[("value", _("the value")), ("rate", _("the completion rate (%)"))],
        initial="value",
    )
    bound = forms.ChoiceField(
        label=_("A band starts"),
        choices=[
            ("at_least", _("from its figure up (higher is better)")),
            ("at_most", _("from its figure down (lower is better)")),
        ],
        initial="at_least",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, BAND_ROWS + 1):
            self.fields[f"bound_{n}"] = forms.DecimalField(
                label=_("Band %(n)s reaches") % {"n": n}, required=False
            )
            self.fields[f"points_{n}"] = _number(_("Band %(n)s scores") % {"n": n}, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, BAND_ROWS + 1):
            given = [data.get(f"bound_{n}") is not None, data.get(f"points_{n}") is not None]
            if any(given) and not all(given):
                missing = f"points_{n}" if given[0] else f"bound_{n}"
                self.add_error(missing, _("give both the band's figure and its points"))
        return data

    def to_rule(self) -> dict[str, object]:
        data = self.cleaned_data
        key = data.get("bound") or "at_least"
        bands = [
            {key: data[f"bound_{n}"], "points": data[f"points_{n}"]}
            for n in range(1, BAND_ROWS + 1)
            if data.get(f"bound_{n}") is not None and data.get(f"points_{n}") is not None
        ]
        return {"kind": self.kind, "basis": data.get("basis") or "value", "bands": bands}

    @classmethod
    def initial_for(cls, rule: Mapping[str, object]) -> dict[str, object]:
        initial: dict[str, object] = {"basis": rule.get("basis", "value")}
        bands = rule.get("bands")
        for n, band in enumerate(bands if isinstance(bands, list) else [], start=1):
            if isinstance(band, Mapping) and n <= BAND_ROWS:
                initial["bound"] = "at_most" if "at_most" in band else "at_least"
                initial[f"bound_{n}"] = band.get("at_most", band.get("at_least"))
                initial[f"points_{n}"] = band.get("points")
        return initial


@register
class ThresholdForm(RuleForm):
    kind = "threshold"
    else_points = _number(_("Points when the target is not met"), required=False)


@register
class WeightedCountForm(RuleForm):
    kind = "weighted_count"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, CLASS_ROWS + 1):
            self.fields[f"class_{n}"] = forms.CharField(
                label=_("Class %(n)s (its code)") % {"n": n}, required=False, max_length=64
            )
            self.fields[f"weight_{n}"] = _number(
                _("Class %(n)s: points each") % {"n": n}, required=False
            )

    def to_rule(self) -> dict[str, object]:
        data = self.cleaned_data
        weights = {
            data[f"class_{n}"].strip(): data[f"weight_{n}"]
            for n in range(1, CLASS_ROWS + 1)
            if (data.get(f"class_{n}") or "").strip() and data.get(f"weight_{n}") is not None
        }
        return {"kind": self.kind, "weights": weights}

    @classmethod
    def initial_for(cls, rule: Mapping[str, object]) -> dict[str, object]:
        weights = rule.get("weights")
        pairs = list(weights.items()) if isinstance(weights, Mapping) else []
        initial: dict[str, object] = {}
        for n, (code, weight) in enumerate(pairs[:CLASS_ROWS], start=1):
            initial[f"class_{n}"], initial[f"weight_{n}"] = code, weight
        return initial


@register
class DeductionForm(RuleForm):
    kind = "deduction"
    per_occurrence = _number(_("Points off per occurrence"))


@register
class BonusForm(RuleForm):
    kind = "bonus"
    per_occurrence = _number(_("Points added per occurrence"))
    cap = _number(_("At most"), required=False)


@register
class VetoForm(RuleForm):
    kind = "veto"


@register
class RankForm(RuleForm):
    kind = "rank"
    per_place = _number(_("Points less per place behind"))


@register
class RelativeToBestForm(RuleForm):
    kind = "relative_to_best"


@register
class DiscretionaryForm(RuleForm):
    kind = "discretionary"
    min = _number(_("At least"))
    max = _number(_("At most"))


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, str(KIND_NAMES.get(kind, kind))) for kind in FORMS]


def rule_form(kind: str, data: Mapping[str, Any] | None, rule: Mapping[str, object]) -> RuleForm:
    """The form of ``kind`` (prefixed by the kind: every kind's form sits on one page), bound
    to ``data`` or filled from ``rule`` when the rule is of that kind."""
    cls = FORMS[kind]
    initial = cls.initial_for(rule) if rule.get("kind") == kind else {}
    return cls(data, prefix=kind, initial=initial)
