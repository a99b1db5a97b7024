"""State changes of evaluation: import, edit and publish schemes, what-if copies,
publish results for review, objections and rulings, finalise.

Each function takes the object first and the acting user by keyword (None: the
system, e.g. the demo loader), runs in one transaction, checks the policy, and
raises DubanError (400) or ConflictError (409) naming fields; nothing is
written when it raises. Row changes are audited by ``AuditedModel``; the
semantic events (``evaluation.results.published`` …) by ``record``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from duban.audit.services import record
from duban.errors import ConflictError, DubanError, Problem
from duban.evaluation import access, engine
from duban.evaluation.builder import data_to_engine, scheme_to_data, scheme_to_engine, to_json
from duban.evaluation.engine.decimals import plain
from duban.evaluation.engine.files import SchemeFileError, parse_scheme, scheme_to_dict
from duban.evaluation.models import (
    Category,
    GroupMember,
    Objection,
    ObjectionState,
    PeerGroup,
    Publication,
    PublicationState,
    Scheme,
    SchemeItem,
    SchemeStatus,
    Target,
)
from duban.evaluation.scoring import score
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

LANGS = ("zh", "en")


def _manage(user: Actor, scheme_or_unit: Scheme | OrgUnit) -> None:
    unit = scheme_or_unit.issuer if isinstance(scheme_or_unit, Scheme) else scheme_or_unit
    policy.require(user, Action.MANAGE_EVALUATION, unit)


def _editable(scheme: Scheme) -> None:
    if scheme.status != SchemeStatus.DRAFT:
        raise ConflictError(
            _("a published scheme is not edited; copy it as a draft (what-if) instead"), "status"
        )


# Schemes: import and export ------------------------------------------------------------------


def import_scheme_yaml(text: str, *, user: Actor, source: str = "") -> Scheme:
    """Create a scheme from a YAML file, or replace a draft with the same code; all or nothing."""
    try:
        built = parse_scheme(text, source=source)
    except SchemeFileError as error:
        raise DubanError(error.problems) from None
    return save_engine_scheme(built, user=user)


@transaction.atomic
def save_engine_scheme(
    built: engine.Scheme, *, user: Actor, based_on: Scheme | None = None
) -> Scheme:
    """Write an engine scheme as rows (new, or replacing the draft of the same code)."""
    problems: list[Problem] = []
    issuer = OrgUnit.objects.filter(code=built.issuer).first()
    if issuer is None:
        raise DubanError(_("no unit has the code %(code)s") % {"code": built.issuer}, "issuer")
    _manage(user, issuer)
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=[u.code for u in built.units])}
    for index, unit in enumerate(built.units):
        found = units.get(unit.code)
        if found is None:
            problems.append(
                Problem(
                    f"units[{index}].code", _("no unit has the code %(code)s") % {"code": unit.code}
                )
            )
        elif unit.level != found.level:
            problems.append(
                Problem(
                    f"units[{index}].level",
                    _("%(unit)s is at level %(found)s, not %(given)s")
                    % {"unit": unit.code, "found": found.level, "given": unit.level},
                )
            )
        elif not found.is_within(issuer):
            problems.append(
                Problem(
                    f"units[{index}].code",
                    _("%(unit)s is not below the issuing unit %(issuer)s")
                    % {"unit": unit.code, "issuer": issuer.code},
                )
            )
    if problems:
        raise DubanError(problems)
    data = scheme_to_dict(built)
    existing = Scheme.objects.filter(code=built.code).first()
    if existing is not None:
        _manage(user, existing)
        _editable(existing)
        existing.groups.all().delete()
        existing.items.all().delete()
        existing.categories.all().delete()
        scheme = existing
        scheme.issuer = issuer
    else:
        scheme = Scheme(code=built.code, issuer=issuer, based_on=based_on)
    scheme.name_zh, scheme.name_en = built.name.zh, built.name.en
    scheme.year = built.year
    scheme.start_month = built.calendar.start_month
    scheme.start_day = built.calendar.start_day
    scheme.grades = to_json(data["grades"])
    scheme.max_items_per_level = dict(built.max_items_per_level)
    _save_fitting(scheme, "", problems)
    for gi, group in enumerate(built.groups):
        row = PeerGroup(
            scheme=scheme,
            code=group.code,
            name_zh=group.name.zh,
            name_en=group.name.en,
            sort_order=gi,
            sequences=[
                {"code": s.code, "name_zh": s.name.zh, "name_en": s.name.en}
                for s in group.sequences
            ],
        )
        _save_fitting(row, f"groups[{gi}]", problems)
        sequence_of = {m: s.code for s in group.sequences for m in s.members}
        for mi, member in enumerate(group.members):
            membership = GroupMember(
                group=row, unit=units[member], sequence=sequence_of.get(member, ""), sort_order=mi
            )
            _save_fitting(membership, f"groups[{gi}].sequences", problems)
    categories = {}
    for ci, category in enumerate(built.categories):
        categories[category.code] = Category(
            scheme=scheme,
            code=category.code,
            name_zh=category.name.zh,
            name_en=category.name.en,
            points=category.points,
            sort_order=ci,
        )
        _save_fitting(categories[category.code], f"categories[{ci}]", problems)
    for ii, item in enumerate(built.items):
        row_item = SchemeItem(
            scheme=scheme,
            code=item.code,
            category=categories[item.category],
            indicator=item.indicator,
            name_zh=item.name.zh,
            name_en=item.name.en,
            points=item.points,
            rule=to_json(engine.rule_to_dict(item.rule)),
            rule_text=item.rule_text,
            direction=str(item.direction),
            cumulative=item.cumulative,
            target=item.target,
            levels=list(item.levels),
            groups=list(item.groups),
            not_ranked_levels=list(item.not_ranked_levels),
            sort_order=ii,
        )
        _save_fitting(row_item, f"items[{ii}]", problems)
        for unit_code, value in item.unit_targets:
            target = Target(item=row_item, unit=units[unit_code], value=value)
            _save_fitting(target, f"items[{ii}].target.units.{unit_code}", problems)
    scheme_to_engine(scheme)  # the rows read back to a valid scheme, or nothing is kept
    return scheme


# A field's name in the file where it is not the column's (name: {zh, en}; a unit's target).
FILE_FIELDS = {"name_zh": ".name.zh", "name_en": ".name.en", "value": "", "sequence": ""}


def _save_fitting(obj: Any, where: str, problems: list[Problem]) -> None:
    """Save a row the engine accepted, unless a text is longer or a number larger than its
    column holds (a 65-character code, a target of 10^30), which PostgreSQL refuses as a
    DataError (a 500). Then the problem, named by its place in the file, ends the import:
    nothing is kept; the first such row is the one named."""
    from django.core.exceptions import ValidationError
    from django.db.models import CharField, DecimalField

    for f in obj._meta.fields:
        if not isinstance(f, (CharField, DecimalField)):
            continue
        value = getattr(obj, f.attname)
        if value is None or value == "":
            continue
        try:
            f.run_validators(value)
        except ValidationError as exc:
            name = FILE_FIELDS.get(f.name, "." + f.name)
            field = f"{where}{name}".lstrip(".")
            problems.extend(Problem(field, str(m)) for m in exc.messages)
    if problems:
        raise DubanError(problems)
    obj.save()


def export_scheme_yaml(scheme: Scheme) -> str:
    return engine.dump_scheme(scheme_to_engine(scheme))


# Schemes: editing ----------------------------------------------------------------------------

ITEM_FIELDS = ("name_zh", "name_en", "points", "rule", "rule_text", "target", "cumulative")


@transaction.atomic
def update_item(item: SchemeItem, *, user: Actor, **changes: Any) -> SchemeItem:
    """Change an item of a draft (points, rule and parameters, rule text, default target).

    The whole scheme is re-read through the engine before the change is kept, so
    a rule parameter above the item's points, say, is refused naming the field.
    """
    scheme = item.scheme
    _manage(user, scheme)
    _editable(scheme)
    item = SchemeItem.objects.select_for_update().get(pk=item.pk)
    problems: list[Problem] = []
    for key, value in changes.items():
        if key not in ITEM_FIELDS:
            problems.append(Problem(key, _("cannot be changed here")))
            continue
        if key in ("points", "target"):
            value = _decimal(value, key, problems, allow_none=key == "target")
        if key == "rule":
            if not isinstance(value, dict):
                problems.append(Problem("rule", _("must be a mapping with a kind")))
                continue
            try:
                value = to_json(
                    engine.rule_to_dict(engine.rule_from_dict(_parse_rule(value), item=item.code))
                )
            except engine.RuleError as error:
                problems.extend(error.problems)
                continue
        setattr(item, key, value)
    if problems:
        raise DubanError(problems)
    item.save()
    _revalidate(scheme, item)
    return item


@transaction.atomic
def set_targets(item: SchemeItem, targets: dict[str, Any], *, user: Actor) -> SchemeItem:
    """Set (or, with an empty value, remove) units' own targets on a draft's item."""
    scheme = item.scheme
    _manage(user, scheme)
    _editable(scheme)
    members = {
        m.unit.code: m.unit
        for m in GroupMember.objects.filter(group__scheme=scheme).select_related("unit")
    }
    problems: list[Problem] = []
    for code, raw in targets.items():
        where = f"targets.{code}"
        if code not in members:
            problems.append(
                Problem(where, _("%(unit)s is not scored by this scheme") % {"unit": code})
            )
            continue
        value = _decimal(raw, where, problems, allow_none=True)
        if value is None:
            Target.objects.filter(item=item, unit=members[code]).delete()
        elif value >= 0:
            Target.objects.update_or_create(
                item=item, unit=members[code], defaults={"value": value}
            )
        else:
            problems.append(Problem(where, _("must be at least 0")))
    if problems:
        raise DubanError(problems)
    _revalidate(scheme, item)
    return item


def _parse_rule(rule: dict[str, Any]) -> dict[str, Any]:
    from duban.evaluation.builder import _decimals

    parsed: dict[str, Any] = _decimals(rule)
    return parsed


def _decimal(raw: Any, where: str, problems: list[Problem], allow_none: bool = False) -> Any:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if not allow_none:
            problems.append(Problem(where, _("is required")))
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        problems.append(Problem(where, _("%(text)s is not a number") % {"text": str(raw)[:40]}))
        return None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 11:
        problems.append(Problem(where, _("is out of range")))
        return None
    return value


def _revalidate(scheme: Scheme, item: SchemeItem) -> None:
    """Refuse a change that leaves the scheme unusable, naming the item's fields."""
    try:
        scheme_to_engine(scheme)
    except DubanError as error:
        index = list(scheme.items.values_list("code", flat=True)).index(item.code)
        prefix = f"items[{index}]."
        raise DubanError(
            [Problem(p.where.removeprefix(prefix), p.message) for p in error.problems]
        ) from None


@transaction.atomic
def publish_scheme(scheme: Scheme, *, user: Actor) -> Scheme:
    """Issue a draft: from now on it is scored for the units in scope and no longer edited."""
    _manage(user, scheme)
    if scheme.is_what_if:
        raise ConflictError(
            _("a what-if copy is never published; edit the scheme itself"), "status"
        )
    _editable(scheme)
    scheme_to_engine(scheme)
    scheme.status = SchemeStatus.PUBLISHED
    scheme.save()
    record("evaluation.scheme.published", obj=scheme, after={"code": scheme.code})
    return scheme


@transaction.atomic
def copy_scheme_as_draft(scheme: Scheme, *, user: Actor, code: str = "") -> Scheme:
    """A what-if draft copy: edit its weights and targets, compare, never touch the original."""
    _manage(user, scheme)
    code = code or _free_code(f"{scheme.code}-whatif")
    if Scheme.objects.filter(code=code).exists():
        raise ConflictError(_("a scheme with the code %(code)s exists") % {"code": code}, "code")
    data = scheme_to_data(scheme)
    data["code"] = code
    copy = save_engine_scheme(data_to_engine(data), user=user, based_on=scheme)
    record(
        "evaluation.scheme.copied",
        obj=copy,
        after={"from": scheme.code, "to": copy.code},
    )
    return copy


def _free_code(base: str) -> str:
    code, n = base, 1
    while Scheme.objects.filter(code=code).exists():
        n += 1
        code = f"{base}{n}"
    return code


@transaction.atomic
def delete_draft(scheme: Scheme, *, user: Actor) -> None:
    _manage(user, scheme)
    _editable(scheme)
    if scheme.publications.exists():
        raise ConflictError(_("results of this scheme were published"), "status")
    scheme.groups.all().delete()
    scheme.items.all().delete()
    scheme.categories.all().delete()
    scheme.delete()


# What-if -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    unit: str
    name: str
    group: str
    total_before: Decimal
    total_after: Decimal
    rank_before: int
    rank_after: int
    grade_before: str
    grade_after: str

    @property
    def delta(self) -> Decimal:
        return self.total_after - self.total_before

    @property
    def rank_delta(self) -> int:
        return self.rank_before - self.rank_after


def compare_what_if(copy: Scheme, period: str | None, lang: str = "zh") -> list[Movement]:
    """Per unit: the original scheme's total, rank and grade beside the what-if copy's."""
    if copy.based_on is None:
        raise DubanError(
            _("this scheme is not a what-if copy: copy it first, then compare"), "based_on"
        )
    before = score(copy.based_on, period, with_previous=False).result
    after = score(copy, period, with_previous=False).result
    rows = []
    for code, u in after.units.items():
        b = before.units.get(code)
        if b is None:
            continue
        rows.append(
            Movement(
                code,
                u.unit.name.get(lang),
                u.group,
                b.display,
                u.display,
                b.rank,
                u.rank,
                b.grade.name.get(lang),
                u.grade.name.get(lang),
            )
        )
    return rows


# Publication and objections ------------------------------------------------------------------


def _snapshot(scheme: Scheme, period: str) -> tuple[dict[str, Any], list[list[str | None]]]:
    scored = score(scheme, period, with_previous=False)
    result = scored.result
    snapshot = {lang: engine.result_to_dict(result, lang) for lang in LANGS}
    values, _ = scored.source.for_period(result.period)
    used = sorted([k[0], k[1], k[2], None if v is None else plain(v)] for k, v in values.items())
    return snapshot, used


@transaction.atomic
def publish_results(
    scheme: Scheme, period: str, *, user: Actor, objection_deadline: date
) -> Publication:
    """Publish one period's results for review (公示); objections until the deadline (inclusive)."""
    _manage(user, scheme)
    if scheme.status != SchemeStatus.PUBLISHED:
        raise ConflictError(_("only an issued scheme's results are published"), "status")
    built = scheme_to_engine(scheme)
    from duban.evaluation.scoring import check_period

    pid = check_period(built, period).id
    if Publication.objects.filter(scheme=scheme, period=pid).exists():
        raise ConflictError(
            _("the results of %(period)s are already published") % {"period": pid}, "period"
        )
    today = timezone.localdate()
    if objection_deadline < today:
        raise DubanError(_("the objection window cannot end in the past"), "objection_deadline")
    snapshot, used = _snapshot(scheme, pid)
    pub = Publication.objects.create(
        scheme=scheme,
        period=pid,
        objection_deadline=objection_deadline,
        snapshot=snapshot,
        values=used,
        published_at=timezone.now(),
        published_by=policy.person(user),
    )
    record(
        "evaluation.results.published",
        obj=pub,
        after={
            "period": pid,
            "objection_deadline": objection_deadline.isoformat(),
            "totals": _totals(snapshot),
        },
    )
    return pub


def _totals(snapshot: dict[str, Any]) -> dict[str, str]:
    return {u["code"]: u["total"] for u in snapshot.get("zh", {}).get("units", [])}


@transaction.atomic
def lodge_objection(
    pub: Publication,
    *,
    user: Actor,
    unit: OrgUnit,
    text: str,
    item: str = "",
    evidence: tuple[str, bytes] | None = None,
) -> Objection:
    """A unit objects to its published result, with evidence, inside the window (deadline inclusive)."""
    policy.require(user, access.OBJECT, unit)
    pub = Publication.objects.select_for_update().get(pk=pub.pk)
    if pub.state != PublicationState.REVIEW:
        raise ConflictError(_("the results are final; objections are closed"), "state")
    if timezone.localdate() > pub.objection_deadline:
        raise ConflictError(
            _("objections were accepted until %(day)s")
            % {"day": pub.objection_deadline.isoformat()},
            "objection_deadline",
        )
    problems: list[Problem] = []
    units = {u["code"]: u for u in pub.snapshot_for("zh").get("units", [])}
    if unit.code not in units:
        problems.append(
            Problem("unit", _("%(unit)s is not scored by this scheme") % {"unit": unit.code})
        )
    elif item and item not in {i["code"] for i in units[unit.code]["items"]}:
        problems.append(
            Problem(
                "item",
                _("%(unit)s is not scored on %(item)s") % {"unit": unit.code, "item": item},
            )
        )
    if not text.strip():
        problems.append(Problem("text", _("say what is wrong")))
    if evidence is not None:
        from duban.reporting.services import check_evidence

        problems.extend(check_evidence(*evidence))
    if problems:
        raise DubanError(problems)
    objection = Objection(
        publication=pub,
        unit=unit,
        item=item,
        text=text.strip(),
        lodged_at=timezone.now(),
        lodged_by=policy.person(user),
    )
    if evidence is not None:
        name, data = evidence
        objection.sha256 = hashlib.sha256(data).hexdigest()
        objection.evidence_name = PurePath(name).name[:200]
        objection.evidence.save(
            f"{objection.sha256}{PurePath(name).suffix.lower()}", ContentFile(data), save=False
        )
    objection.save()
    record(
        "evaluation.objection.lodged",
        obj=objection,
        after={"item": item, "text": objection.text, "evidence_sha256": objection.sha256},
    )
    return objection


@transaction.atomic
def rule_objection(objection: Objection, *, user: Actor, upheld: bool, reason: str) -> Objection:
    """The issuing office rules on an objection, always with a written reason.

    Upholding records the decision; the correction itself goes through the data
    (returned, corrected, approved again) and a recorded refresh of the review
    snapshot — never through an unexplained change of a score.
    """
    pub = objection.publication
    _manage(user, pub.scheme)
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    if objection.state != ObjectionState.OPEN:
        raise ConflictError(_("the objection was already ruled on"), "state")
    if not reason.strip():
        raise DubanError(_("a ruling needs a reason"), "reason")
    objection.state = ObjectionState.UPHELD if upheld else ObjectionState.REJECTED
    objection.ruling = reason.strip()
    objection.ruled_at = timezone.now()
    objection.ruled_by = policy.person(user)
    objection.save()
    record(
        "evaluation.objection.ruled",
        obj=objection,
        after={"state": objection.state},
        reason=objection.ruling,
    )
    return objection


@transaction.atomic
def refresh_publication(pub: Publication, *, user: Actor, reason: str) -> Publication:
    """Re-take the review snapshot from current approved data (after an upheld objection).

    Allowed only while under review, only with a reason; the audit entry keeps
    every total before and after.
    """
    _manage(user, pub.scheme)
    pub = Publication.objects.select_for_update().get(pk=pub.pk)
    if pub.state != PublicationState.REVIEW:
        raise ConflictError(_("final results are never changed"), "state")
    if not reason.strip():
        raise DubanError(_("say why the published results are refreshed"), "reason")
    before = _totals(pub.snapshot)
    pub.snapshot, pub.values = _snapshot(pub.scheme, pub.period)
    pub.save()
    record(
        "evaluation.results.refreshed",
        obj=pub,
        before={"totals": before},
        after={"totals": _totals(pub.snapshot)},
        reason=reason.strip(),
    )
    return pub


@transaction.atomic
def finalise_publication(pub: Publication, *, user: Actor) -> Publication:
    """Make the results final: the window has closed and no objection is open."""
    _manage(user, pub.scheme)
    pub = Publication.objects.select_for_update().get(pk=pub.pk)
    if pub.state != PublicationState.REVIEW:
        raise ConflictError(_("the results are already final"), "state")
    if timezone.localdate() <= pub.objection_deadline:
        raise ConflictError(
            _("objections are accepted until %(day)s")
            % {"day": pub.objection_deadline.isoformat()},
            "objection_deadline",
        )
    open_ones = pub.objections.filter(state=ObjectionState.OPEN).count()
    if open_ones:
        raise ConflictError(
            ngettext(
                "%(count)d objection still open: rule on it first",
                "%(count)d objections still open: rule on them first",
                open_ones,
            )
            % {"count": open_ones},
            "state",
        )
    pub.state = PublicationState.FINAL
    pub.finalised_at = timezone.now()
    pub.finalised_by = policy.person(user)
    pub.save()
    record("evaluation.results.finalised", obj=pub, after={"totals": _totals(pub.snapshot)})
    return pub


# Freezing: what changed since publication ----------------------------------------------------


@dataclass(frozen=True)
class Difference:
    unit: str
    unit_name: str
    item: str  # "" for the total
    item_name: str
    published: str
    current: str


def differences(pub: Publication, lang: str = "zh") -> list[Difference]:
    """Where current approved data would now give another result than the one published."""
    current = engine.result_to_dict(score(pub.scheme, pub.period, with_previous=False).result, lang)
    published = {u["code"]: u for u in pub.snapshot_for(lang).get("units", [])}
    found: list[Difference] = []
    for unit in current["units"]:
        before = published.get(unit["code"])
        if before is None:
            continue
        old_items = {i["code"]: i for i in before["items"]}
        for item in unit["items"]:
            old = old_items.get(item["code"])
            if old is not None and old["score"] != item["score"]:
                found.append(
                    Difference(
                        unit["code"],
                        unit["name"],
                        item["code"],
                        item["name"],
                        old["score"],
                        item["score"],
                    )
                )
        if before["total"] != unit["total"]:
            found.append(
                Difference(unit["code"], unit["name"], "", "", before["total"], unit["total"])
            )
    return found
