"""Personal data of closed cases: erased when the retention period ends (a daily timer).

``COMPLAINT_RETENTION_YEARS`` after a case was closed, its complainant's or reporter's
identity (name, phone and ID number with their keyed hashes, address) and the
near-duplicate fingerprint derived from the phone are erased; the case keeps everything
statistics and disclosure count (kind, dates, bureau, respondent, category, outcome,
amounts) and ``personal_data_erased_at`` says when. Each erased case gets one audit event
in the same transaction. ``qcity purge_personal_data`` runs it by hand (``--dry-run``
counts); ``core.jobs`` runs it daily (registered in ``ComplaintsConfig.ready``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from qcity.complaints.models import Case
from qcity.core import audit, jobs, pii

ERASED_FIELDS = {
    "person_name": "",
    "person_phone": "",
    "person_phone_index": "",
    "person_id_number": "",
    "person_id_index": "",
    "person_address": "",
    "fingerprint": "",
}


def cutoff(now: dt.datetime, years: int) -> dt.datetime:
    """The same moment ``years`` calendar years earlier (29 February → 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def due(now: dt.datetime | None = None) -> Q:
    """Closed cases whose retention period has ended and whose data is still there."""
    limit = cutoff(now or timezone.now(), settings.COMPLAINT_RETENTION_YEARS)
    # closed_at is set by the closing steps; a case closed without it falls back to the
    # time of its last status change (which was the closing one).
    closed_before = Q(closed_at__lt=limit) | Q(closed_at__isnull=True, status_changed_at__lt=limit)
    return Q(status=Case.Status.CLOSED, personal_data_erased_at__isnull=True) & closed_before


def erase_due(now: dt.datetime | None = None, *, batch_size: int = 500) -> int:
    """Erase the personal data of every case past its retention period; return how many."""
    now = now or timezone.now()
    years = settings.COMPLAINT_RETENTION_YEARS
    erased = 0
    while True:
        with transaction.atomic():
            batch = list(
                Case.objects.filter(due(now))
                .order_by("pk")
                .select_for_update(of=("self",))
                .only("pk", "number", "kind", "closed_at", "status_changed_at")[:batch_size]
            )
            if not batch:
                return erased
            Case.objects.filter(pk__in=[c.pk for c in batch]).update(
                **ERASED_FIELDS, personal_data_erased_at=now
            )
            audit.record_many(
                {
                    "action": "complaints.case.personal_data_erased",
                    "obj": case,
                    "details": {
                        "closed_at": (case.closed_at or case.status_changed_at).isoformat(),
                        "retention_years": years,
                    },
                }
                for case in batch
            )
            erased += len(batch)
        if len(batch) < batch_size:
            return erased


@task()
def erase_personal_data() -> int:
    return erase_due()


def register() -> None:
    """The encrypted fields (for key rotation) and the daily retention timer."""
    pii.register_field(
        "complaints.Case", "person_phone", index_field="person_phone_index", kind="phone"
    )
    pii.register_field(
        "complaints.Case", "person_id_number", index_field="person_id_index", kind="id_number"
    )
    jobs.periodic("complaints.erase_personal_data", erase_personal_data, hours=24)
