"""The record types of the demo, which are also the ones a police organisation starts with:
cases filed and solved, arrests, fugitives caught (class A, B or local), vehicles removed and
complaints. Loaded by `duban demo` (safe to run twice); a real installation loads them with
`duban records types` and adds its own in the admin."""

from __future__ import annotations

from duban.records.models import RecordType

# (code, Chinese name, English name): the codes a case system's export names in its type column.
RECORD_TYPES = [
    ("case_filed", "立案", "Case filed"),
    ("case_solved", "破案", "Case solved"),
    ("arrest", "抓获", "Arrest"),
    ("fugitive_caught", "抓获逃犯", "Fugitive caught"),
    ("vehicle_removed", "清理车辆", "Vehicle removed"),
    ("complaint", "投诉", "Complaint"),
]


def load_record_types() -> int:
    """Create the record types that are missing (an existing one is left as it is, names and
    all: someone may have renamed it). Returns how many were created."""
    created = 0
    known = set(RecordType.objects.values_list("code", flat=True))
    for order, (code, name_zh, name_en) in enumerate(RECORD_TYPES, start=1):
        if code not in known:
            RecordType.objects.create(
                code=code, name_zh=name_zh, name_en=name_en, sort_order=order * 10
            )
            created += 1
    return created
