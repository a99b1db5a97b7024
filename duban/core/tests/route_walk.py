"""The every-route walk: the routes (resolver and OpenAPI document), the parameter generator,
the personas, and the judge of one answer. See test_every_route.py for the promise."""

from __future__ import annotations

import copy
import functools
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from duban.api import api
from duban.audit.models import AuditEntry
from duban.core.tests.route_world import FOREIGN_MARK, PDF, SIBLING_MARK, Org

ANONYMOUS = "anonymous"
# Who walks (keys of Org.users of the home organisation), and whose objects they walk
# against: the foreign organisation's, or — for a county's people — the sibling county's
# (what the sibling owns; what it shares with them, such as its parent's data set, stays).
# One persona per role (each walk costs some fifteen seconds): the office and the leader at
# the city, the reporter and the approver at a county (against their sibling county).
PERSONAS = [
    ANONYMOUS,
    "root_system_admin",
    "root_security_admin",
    "root_audit_admin",
    "root_office",
    "root_leader",
    "div_leader",  # a division head (条线): reads his line's data in the territory below
    "c1_reporter",
    "c1_approver",
]
SIBLING_WALKERS = frozenset({"c1_reporter", "c1_approver", "c1_leader", "c1_office"})

# Routes open to anyone signed in (or to anyone), or about the person himself, not a unit:
# they may answer 2xx — still without a word of out-of-scope data.
PUBLIC: dict[str, str] = {
    "": "the landing page: the person's own units, or a redirect to his cockpit",
    "favicon.ico": "a redirect to a static file",
    "accounts/login/": "signing in",
    "accounts/logout/": "signing out",
    "accounts/language/": "the language switch, kept in a cookie or the person's account",
    "accounts/account/": "the person's own account page (password change)",
    "accounts/account/sign-out-elsewhere/": "ends the person's own other sessions",
    "todo/": "the person's own to-do list",
    "tasks/inbox/": "the person's own inbox of reminders",
    "jobs/": "the person's own background work",
    "api/accounts/me": "the person's own account",
    "api/accounts/me/language": "the person's own language",
    "api/indicators/formula/check": "checks a formula's text, reads no data",
    "api/periods/{period_id}": "a period's dates: the calendar, no unit's data",
    "api/": "the API's root",
    "admin/login/": "the admin site's sign-in page",
    "admin/logout/": "the admin site's sign-out",
    "admin/jsi18n/": "the admin's translated strings for its scripts",
}

# What a parameter stands for, by (app, the path's noun before it, its name); "*" matches
# any app or noun. A name the table cannot place fails test_every_parameter_is_known.
KINDS: dict[tuple[str, str, str], str] = {
    ("*", "*", "unit"): "unit",
    ("*", "*", "orgUnit"): "unit",
    ("*", "*", "under"): "unit",
    ("*", "*", "issuer"): "unit",
    ("*", "*", "lead"): "unit",
    ("*", "units", "code"): "unit",
    ("accounts", "members", "code"): "unit",
    ("cockpit", "recompute", "code"): "unit",
    ("cockpit", "cockpit", "code"): "unit",
    ("meetings", "cadence", "code"): "unit",
    ("*", "datasets", "code"): "data_set",
    ("*", "*", "ds"): "data_set",
    ("*", "*", "data_set"): "data_set",
    ("*", "*", "dataSet"): "data_set",
    ("*", "*", "period"): "period",
    ("*", "*", "period_id"): "period",
    ("*", "*", "start"): "start",
    ("*", "*", "end"): "end",
    ("indicators", "indicators", "code"): "indicator",
    ("*", "*", "indicator"): "indicator",
    ("evaluation", "schemes", "code"): "scheme",
    ("evaluation", "items", "item"): "item",
    ("*", "*", "line"): "line",
    ("evaluation", "publications", "pk"): "publication",
    ("evaluation", "objections", "pk"): "objection",
    ("evaluation", "results", "fmt"): "table_format",
    ("orgs", "tree", "fmt"): "table_format",
    ("bulletins", "bulletins", "fmt"): "document_format",
    ("bulletins", "bulletins", "pk"): "bulletin",
    ("bulletins", "brief", "meeting"): "meeting",
    ("reporting", "forms", "action"): "transition",
    ("reporting", "evidence", "pk"): "form_evidence",
    ("reporting", "lock-exceptions", "pk"): "lock_exception",
    ("tasks", "evidence", "pk"): "task_evidence",
    ("tasks", "tasks", "pk"): "task",
    ("tasks", "milestones", "pk"): "milestone",
    ("tasks", "reminders", "pk"): "reminder",
    ("tasks", "reports", "pk"): "report",
    ("meetings", "meetings", "pk"): "meeting",
    ("cockpit", "meetings", "pk"): "meeting",
    ("meetings", "decisions", "pk"): "matter",
    ("indicators", "rules", "pk"): "rule",
    ("accounts", "memberships", "membership_id"): "membership",
    ("jobs", "jobs", "job_id"): "job",
    ("records", "*", "pk"): "record_import",
    # The admin's rows, one key per registered model: a new registration fails loudly.
    ("admin", "orgunit", "object_id"): "unit_pk",
    ("admin", "unitmove", "object_id"): "unit_move",
    ("admin", "datavalue", "object_id"): "data_value",
    ("admin", "r", "object_id"): "unit_pk",
    ("admin", "r", "content_type_id"): "content_type",
    ("admin", "*", "app_label"): "app_label",
    ("admin", "*", "url"): "admin_rest",
}
# Values that name no one's object: the same in every world.
VOCABULARY = {
    "period": "201712",
    "start": "2017-01-01",
    "end": "2017-12-31",
    "line": "traffic",
    "item": "solved",
    "table_format": "csv",
    "document_format": "docx",
    "transition": "submit",
    "app_label": "orgs",
    "admin_rest": "nothing/",
}


@dataclass
class World:
    home: Org
    foreign: Org


def values(world: World, persona: str) -> tuple[dict[str, str], set[str]]:
    """The generator: for each kind, the value a persona's calls carry, and the kinds whose
    value is an out-of-scope object (a route naming one must refuse)."""
    from django.contrib.contenttypes.models import ContentType

    from duban.orgs.models import OrgUnit

    f = world.foreign
    out: dict[str, str] = {
        "unit": f.units["c2"].code,
        "unit_pk": str(f.units["c2"].pk),
        "content_type": str(ContentType.objects.get_for_model(OrgUnit).pk),
        "data_set": f.data_set,
        "indicator": f.indicator,
        "scheme": f.scheme,
        "publication": str(f.publication),
        "objection": str(f.objection),
        "bulletin": str(f.bulletin),
        "meeting": str(f.meeting),
        "matter": str(f.matter),
        "form_evidence": str(f.form_evidence),
        "lock_exception": str(f.lock_exception),
        "task_evidence": str(f.task_evidence),
        "task": str(f.task),
        "milestone": str(f.milestone),
        "reminder": str(f.reminder),
        "report": str(f.report),
        "rule": str(f.rule),
        "membership": str(f.membership),
        "job": f.job,
        "unit_move": str(f.unit_move),
        "data_value": str(f.data_value),
        "record_import": str(f.record_import),
    }
    foreign_kinds = set(out)
    if persona in SIBLING_WALKERS:
        h = world.home
        out |= {
            "unit": h.units["c2"].code,
            "unit_pk": str(h.units["c2"].pk),
            "form_evidence": str(h.form_evidence),
            "lock_exception": str(h.lock_exception),
            "objection": str(h.objection),
            "task": str(h.task),
            "milestone": str(h.milestone),
            "report": str(h.report),
            "task_evidence": str(h.task_evidence),
            "reminder": str(h.reminder),
            "membership": str(h.membership),
            "job": h.job,
            "data_value": str(h.data_value),
            "record_import": str(h.record_import),
        }
        # The sibling's forms are of the data set its parent shares with both counties.
        out["data_set"] = h.data_set
        foreign_kinds.discard("data_set")
    return out | VOCABULARY, foreign_kinds


# ---------------------------------------------------------------- the routes


@dataclass(frozen=True)
class Route:
    route: str  # as the resolver spells it (pages) or the OpenAPI document (API operations)
    app: str
    params: tuple[tuple[str, str], ...]  # (noun, name) of each path parameter
    methods: tuple[str, ...]
    query: tuple[tuple[str, bool], ...] = ()  # API: (name, required)
    body: str = ""  # API: "json" or "multipart"
    schema: Any = None


PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}|\(\?P<(\w+)>[^)]*\)")
PAGE_METHODS = ("get", "post")


def _resolver_routes(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _resolver_routes(p, route)
        elif isinstance(p, URLPattern):
            yield route


def _params(route: str) -> tuple[tuple[str, str], ...]:
    """(noun, name) per parameter: the noun is the last literal word before it."""
    out = []
    for m in PARAM.finditer(route):
        name = next(g for g in m.groups() if g)
        before = PARAM.sub("", route[: m.start()])
        words = [w for w in re.split(r"[/.^$]+", before) if w]
        out.append((words[-1] if words else "", name))
    return tuple(out)


def _app(route: str) -> str:
    parts = [p for p in route.split("/") if p]
    if parts and parts[0] == "api" and len(parts) > 1:
        return parts[1]
    return parts[0].split(".")[0] if parts else ""


def page_routes() -> list[Route]:
    return [
        Route(r, _app(r), _params(r), PAGE_METHODS)
        for r in _resolver_routes(get_resolver())
        if not r.startswith("api/") or r in {"api/", "api/openapi.json", "api/docs"}
    ]


@functools.cache
def _schema() -> dict[str, Any]:
    doc: dict[str, Any] = api.get_openapi_schema()
    return doc


def api_routes() -> list[Route]:
    doc = _schema()
    out = []
    for path, ops in doc["paths"].items():
        route = path.lstrip("/")
        for method, op in ops.items():
            params = op.get("parameters", [])
            query = tuple(
                (p["name"], bool(p.get("required"))) for p in params if p["in"] == "query"
            )
            content = op.get("requestBody", {}).get("content", {})
            body, schema = "", None
            if "application/json" in content:
                body, schema = "json", content["application/json"]["schema"]
            elif "multipart/form-data" in content:
                body, schema = "multipart", content["multipart/form-data"]["schema"]
            out.append(Route(route, _app(route), _params(route), (method,), query, body, schema))
    return out


@functools.cache
def all_routes() -> list[Route]:
    return page_routes() + api_routes()


def api_paths_without_operation() -> list[str]:
    documented = {p.lstrip("/") for p in _schema()["paths"]}
    served = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r)
        for r in _resolver_routes(get_resolver())
        if r.startswith("api/")
    }
    return sorted((served ^ documented) - {"api/", "api/openapi.json", "api/docs"})


def kind_of(app: str, noun: str, name: str) -> str | None:
    for key in ((app, noun, name), ("*", noun, name), (app, "*", name), ("*", "*", name)):
        if key in KINDS:
            return KINDS[key]
    return None


def unknown_parameters(routes: list[Route]) -> list[str]:
    wrong: list[str] = []
    for r in routes:
        names = list(r.params) + [("", q) for q, required in r.query if required]
        for noun, name in names:
            if kind_of(r.app, noun, name) is None:
                wrong.append(f"{r.route}: {name!r} (after {noun!r})")
    return sorted(set(wrong))


# ---------------------------------------------------------------- the calls


@dataclass
class Cell:
    """One route × method for one persona: what is sent, and what it names."""

    route: Route
    method: str
    url: str
    data: Any
    content_type: str
    names_foreign: bool  # a path parameter is an out-of-scope object
    sent: list[str]  # the values sent, not counted as leaks when echoed back


def _fill(route: Route, vals: dict[str, str]) -> tuple[str, list[str]]:
    """The path with each parameter filled by the generator, and the values put in it."""
    sent: list[str] = []
    kinds = iter(kind_of(route.app, noun, name) for noun, name in route.params)

    def value(m: re.Match[str]) -> str:
        kind = next(kinds)
        assert kind is not None
        sent.append(vals[kind])
        return vals[kind]

    path = PARAM.sub(value, route.route).replace("^", "").replace("$", "")
    return "/" + path, sent


# Body fields that name a unit or another object, by name; other required fields get a
# plain value of their type.
BODY_KINDS = {
    "unit": "unit", "parent": "unit", "issuer": "unit", "owner": "unit", "division": "unit",
    "issuing_unit": "unit", "lead_unit": "unit", "data_set": "data_set", "period": "period",
    "indicator": "indicator", "indicator_code": "indicator", "milestone": "milestone",
}  # fmt: skip
BODY_LISTS = {"indicators": "indicator", "partners": "unit", "participants": "unit"}
BODY_PLAIN: dict[str, Any] = {
    "username": "frn_c2_reporter", "role": "reporter", "language": "en", "level": "county",
    "value_type": "integer", "mechanism": "monthly_study", "password": "Long-enough-2017!x",
    "first_year": 2017, "percent": 50, "upheld": False, "supervise": False, "aims": ["目标"],
    "expression": "1 >= 0", "formula": "1 + 1", "code": "FRN-NEW", "objection_deadline":
    "2030-01-01", "reason": "检查", "period": "201712",
}  # fmt: skip
BODY_BY_SCHEMA: dict[tuple[str, str], Any] = {
    ("UnitCreate", "kind"): "territorial",
    ("MeetingIn", "kind"): "dispatch",
    ("IndicatorIn", "code"): "frn.new",
    ("PublishIn", "period"): "2017Q1",
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = _schema()["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def _plain(prop: dict[str, Any]) -> Any:
    kind = prop.get("type") or next((a.get("type") for a in prop.get("anyOf", [])), "string")
    if prop.get("format") == "date":
        return "2017-12-28"
    return {"integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}.get(
        kind, "检查"
    )


def _json_body(route: Route, vals: dict[str, str], extra: dict[str, str]) -> dict[str, Any]:
    schema = _resolve(route.schema)
    title = route.schema.get("$ref", "").rsplit("/", 1)[-1]
    required = set(schema.get("required", []))
    body: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if (title, name) in BODY_BY_SCHEMA:
            body[name] = BODY_BY_SCHEMA[(title, name)]
        elif name in BODY_KINDS:
            body[name] = vals[BODY_KINDS[name]]
        elif name in BODY_LISTS:
            body[name] = [vals[BODY_LISTS[name]]]
        elif name in extra:
            body[name] = extra[name]
        elif name in required:
            body[name] = BODY_PLAIN.get(name, _plain(prop))
        if name == "values":
            body[name] = {vals["indicator"]: 5}
    return body


def _file(route: Route, vals: dict[str, str]) -> tuple[str, bytes]:
    if "tree" in route.route:
        csv_text = (
            f"code,parent,name_zh,level,kind\nFRN-NEW,{vals['unit']},新单位,county,territorial\n"
        )
        return "tree.csv", csv_text.encode()
    if "evidence" in route.route:
        return "证明.pdf", PDF
    figures = {"dataValues": [{"dataElement": vals["indicator"], "orgUnit": vals["unit"],
                               "period": "201712", "value": "9"}]}  # fmt: skip
    return "figures.json", json.dumps(figures).encode()


def cells(
    routes: list[Route], vals: dict[str, str], foreign: set[str], extra: dict[str, str]
) -> Iterator[Cell]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    for r in routes:
        if any(kind_of(r.app, noun, name) is None for noun, name in r.params):
            continue  # test_every_parameter_is_known names it
        path, sent = _fill(r, vals)
        names_foreign = any(kind_of(r.app, noun, name) in foreign for noun, name in r.params)
        query: dict[str, str] = {}
        for name, required in r.query:
            kind = kind_of(r.app, "", name)
            if kind is not None and (required or kind in ("unit", "data_set", "indicator")):
                query[name] = vals[kind]
        if not r.params and not r.route.startswith("api/"):
            query = {"unit": vals["unit"], "period": "201712"}
        sent += list(query.values())
        url = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        for method in r.methods:
            data: Any = None
            content_type = ""
            if method == "post" and not r.route.startswith("api/"):
                data = {"unit": vals["unit"], "lead_unit": vals["unit"], "parent": vals["unit"]}
            elif r.body == "json":
                data, content_type = json.dumps(_json_body(r, vals, extra)), "application/json"
            elif r.body == "multipart":
                name, content = _file(r, vals)
                props = _resolve(r.schema).get("properties", {})
                data = {}
                for field in props:
                    if field in ("file", "files"):
                        data[field] = SimpleUploadedFile(name, content)
                    elif field in BODY_KINDS:
                        data[field] = vals[BODY_KINDS[field]]
            elif method in ("post", "put", "patch") and r.route.startswith("api/"):
                data, content_type = json.dumps({"dataValues": [{
                    "dataElement": vals["indicator"], "orgUnit": vals["unit"],
                    "period": "201712", "value": "9"}]}), "application/json"  # fmt: skip
            yield Cell(r, method, url, data, content_type, names_foreign, sent + _strings(data))


def _strings(data: Any) -> list[str]:
    """The words a call sends in its body (a refusal may quote them back)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    if hasattr(data, "read"):
        data.seek(0)
        text = data.read().decode("utf-8", "replace")
        data.seek(0)
        return re.findall(r"[\w.-]+", text)
    return [str(data)] if data is not None else []


# ---------------------------------------------------------------- the judge

FOREIGN_CODES = re.compile(r"(?<![A-Za-z0-9])(?:FRN|frn)(?![A-Za-z0-9_])[-.\w]*")
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")


def _texts(response: Any) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.headers.get("Content-Type", "")
    if body[:4] == b"PK\x03\x04":  # xlsx, docx: every XML part's text
        import zipfile

        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return " ".join(
                z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")
            )
    if "json" in kind:
        try:
            return json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            pass
    return body.decode("utf-8-sig", "replace")


def leaks(text: str, marks: list[str], sent: list[str]) -> list[str]:
    for value in sorted(sent, key=len, reverse=True):
        text = text.replace(value, "")
    found = [m for m in marks if m in text]
    found += sorted(set(FOREIGN_CODES.findall(text)))[:3]
    return found


def judge(cell: Cell, response: Any, persona: str, marks: list[str], wrote: int) -> str | None:
    status = response.status_code
    where = f"{persona} {cell.method.upper()} {cell.url}"
    if wrote:
        return f"{where}: {status}, and wrote {wrote} audit entries about out-of-scope units"
    if status in (401, 403, 404, 405):  # 401: the API's answer to someone not signed in
        return None
    if 300 <= status < 400:
        target = response.headers.get("Location", "")
        if target.startswith(LOGIN_PATHS) or not cell.names_foreign:
            return None
        # Django's admin answers a row outside its queryset with its index (and a message),
        # and <id>/ with <id>/change/, which does the same.
        if cell.url.startswith("/admin/") and target in (
            "/admin/",
            cell.url.split("?")[0] + "change/",
        ):
            return None
        return f"{where}: redirects to {target} (an out-of-scope object, not refused)"
    if status >= 500:
        return f"{where}: {status}"
    if 200 <= status < 300:
        public = cell.route.route in PUBLIC
        if cell.names_foreign and not public:
            return f"{where}: {status} for an out-of-scope object"
        if persona == ANONYMOUS and not public:
            return f"{where}: {status} to someone not signed in"
        found = leaks(_texts(response), marks, cell.sent)
        return f"{where}: {status} showing {found}" if found else None
    if cell.names_foreign:
        return f"{where}: {status} (not a refusal: the input was read before the policy was asked)"
    # A list's filter or a new object's field naming an out-of-scope unit: refused as bad
    # input (the filters ask the policy which units are within reach); still no data in it.
    found = leaks(_texts(response), marks, cell.sent)
    return f"{where}: {status} showing {found}" if found else None


def walk(client: Client, world: World, persona: str) -> tuple[list[str], int]:
    """Every cell for one persona; each in a savepoint rolled back. Returns (faults, cells)."""
    from duban.evaluation.models import Scheme
    from duban.evaluation.services import export_scheme_yaml

    vals, foreign = values(world, persona)
    scheme = Scheme.objects.get(code=world.foreign.scheme)
    extra = {"yaml": export_scheme_yaml(scheme).replace(scheme.code, "frn-copy")}
    marks = [FOREIGN_MARK]
    out_units = [u.pk for u in world.foreign.units.values()]
    if persona in SIBLING_WALKERS:
        marks.append("本市" + SIBLING_MARK)
        out_units.append(world.home.units["c2"].pk)
    faults: list[str] = []
    count = 0
    logging.disable(logging.CRITICAL)  # every refusal logs a warning: thousands of them
    try:
        for cell in cells(all_routes(), vals, foreign, extra):
            count += 1
            fault = _one(client, cell, persona, marks, out_units)
            if fault:
                faults.append(fault)
    finally:
        logging.disable(logging.NOTSET)
    return faults, count


def _one(
    client: Client, cell: Cell, persona: str, marks: list[str], out_units: list[int]
) -> str | None:
    """One call in a savepoint rolled back, the client's cookies kept (a sign-out or a
    language switch must not change who makes the next call)."""
    saved = copy.deepcopy(client.cookies)
    with transaction.atomic():
        last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        kwargs: dict[str, Any] = {"content_type": cell.content_type} if cell.content_type else {}
        call = getattr(client, cell.method)
        response = call(cell.url, cell.data, **kwargs) if cell.data is not None else call(cell.url)
        wrote = (
            AuditEntry.objects.filter(pk__gt=last, unit_id__in=out_units)
            .exclude(action="access.denied")
            .count()
        )
        fault = judge(cell, response, persona, marks, wrote)
        transaction.set_rollback(True)
    client.cookies = saved
    return fault
