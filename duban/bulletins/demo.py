"""Demo document series: the Shaanxi reform office's monthly bulletin and quarterly review,
Yongzhou's monthly bulletin and dispatch brief, and one issued Shaanxi bulletin (October 2017)
so that every unit has something to read. Invented figures, marked so in every document.

Run after the evaluation demo; a second run does nothing.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from duban.audit.context import acting_as
from duban.bulletins import services
from duban.bulletins.models import Bulletin, DocumentKind, Series
from duban.evaluation.models import Scheme
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM

SERIES = (
    # issuer, kind, authority, prefix, index code, category, addressees, scheme, progress item
    ("SX", DocumentKind.MONTHLY, "陕西省公安厅改革办公室", "陕公改办通", "610000018", "工作通报",
     "各市（区）公安局，厅机关各部门", "sx-2017", "sx.yellow"),
    ("SX", DocumentKind.QUARTERLY, "陕西省公安厅改革办公室", "陕公改办评", "610000018", "工作点评",
     "各市（区）公安局", "sx-2017", ""),
    ("YZ", DocumentKind.MONTHLY, "永州市公安局", "永公通", "431100051", "工作通报",
     "各县区公安局，市局各警种部门", "yz-2017", "traffic.yellow"),
    ("YZ", DocumentKind.DISPATCH, "永州市公安局警令部", "永公调", "431100051", "调度简报",
     "各县区公安局，市局各警种部门", "yz-2017", ""),
)  # fmt: skip
ISSUED = ("SX", "201710", date(2017, 11, 8))


@transaction.atomic
def load_bulletins_demo(today: date) -> dict[str, int]:
    counts = {"series": 0, "issued": 0}
    with acting_as(source="duban demo", reason="演示数据（虚构）"):
        for code, kind, authority, prefix, index, category, to, scheme, item in SERIES:
            issuer = OrgUnit.objects.filter(code=code, is_demo=True).first()
            if issuer is None or Series.objects.filter(issuer=issuer, kind=kind).exists():
                continue
            Series.objects.create(
                issuer=issuer,
                kind=kind,
                authority=authority,
                prefix=prefix,
                index_code=index,
                category=category,
                addressees=to,
                copy_to="",
                scheme=Scheme.objects.filter(code=scheme).first(),
                progress_item=item,
            )
            counts["series"] += 1
        code, period, written = ISSUED
        series = Series.objects.filter(issuer__code=code, kind=DocumentKind.MONTHLY).first()
        if series is not None and not Bulletin.objects.filter(series=series).exists():
            draft = services.create_draft(series, user=SYSTEM, period=period, today=today)
            draft = services.edit_draft(draft, user=SYSTEM, date_written=written)
            services.issue(draft, user=SYSTEM)
            counts["issued"] += 1
    return counts
