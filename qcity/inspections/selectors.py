"""Reads of 双随机、一公开 that need thought; all go through the data scope."""

from __future__ import annotations

from django.db.models import QuerySet

from qcity.core.scope import get_scoped_or_404, scoped
from qcity.inspections.models import Batch, Draw


def draw_attempts(user, batch) -> QuerySet[Draw]:
    """Every draw attempt of a batch the user may see, first to last (Http404 otherwise).

    Attempts refused before a draw existed (no eligible entity, malformed quotas) leave no
    row; they are in the audit log as ``inspections.batch.draw_refused``.
    """
    batch_pk = batch.pk if isinstance(batch, Batch) else batch
    found = get_scoped_or_404(user, Batch.objects.all(), pk=batch_pk)
    return (
        scoped(user, Draw.objects.filter(batch=found))
        .select_related("drawn_by")
        .order_by("attempt")
    )
