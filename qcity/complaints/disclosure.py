"""投诉信息公示: the publish step that writes the portal's complaint rows (ADR 0042).

One ``portal.PublishedComplaintStat`` row per enterprise per period (a month "2026-10" or a
year "2026"), as the national platform tsgs.12315.cn shows them: complaint count and growth
against the previous period, the mediation success rate, the ODR settlement rate (先行和解率,
ODR members only), hot goods and hot issues. Desensitized by construction: the row is built
from counts and from the names of reference categories (``Category``, ``IssueType``), never
from a case's text, the complainant, the reporter, or the goods as typed by the public.

Which complaints count (全量公示, "以公示为常态、不公示为例外", complaint-rules.md §5):
every complaint (never a report or a lead) received in the period about a registered
enterprise (a respondent with a credit code in the register: the row is keyed by that
code), once (a case marked ``duplicate_of`` another is not counted again), whatever its
state, EXCEPT the 不予公示 cases below, which are left out of every figure:

- refused because the matter is not ours to handle (不予受理 ground 1): it says nothing
  about the enterprise's dealings with consumers;
- refused as not a consumer dispute (ground 3: 职业索赔, Order 121 Art.17), for missing or
  false materials (ground 5) or, under Order 121, an impersonated or unverified complainant
  (ground 6): a complaint that may be malicious (恶意投诉) must not stain the enterprise;
- mediation terminated on ground 6 (Order 20: an Art.15 refusal ground found after
  acceptance; Order 121: Art.16 or Art.42, fraud or extortion by the complainant).

Figures (hand-checkable; tests/complaints/test_disclosure.py):
- ``complaints``: counted complaints received in the period; ``previous_complaints`` the
  same for the period before (the month before, the year before); ``growth_pct`` =
  (this − previous) ÷ previous × 100, none when the previous period had none;
- ``mediated``: mediations of counted complaints concluded in the period (the step
  ``agree``, ``terminate`` or ``withdraw`` taken from 已受理/调解中/调解中止, by its date);
  ``mediation_success_pct`` = agreements ÷ ``mediated`` × 100;
- ``odr_settled_pct`` (only for an enterprise in ODR at some time in the period): counted
  complaints received in the period that went to the enterprise first (``Case.odr``) and
  left the ODR stage, settled by the enterprise ÷ all that left it;
- ``hot_goods`` / ``hot_issues``: the three most frequent categories / issue types among
  the period's counted complaints (ties in the catalogue's order).

Re-publishing a period replaces all its rows in one transaction; each publication is audited
(``complaints.disclosure.published``). ``qcity run_timers`` publishes the previous month (and
in January the previous year) on the first working day of the month (``disclosure_jobs``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qcity.complaints.models import Case, OdrEnrolment
from qcity.core import audit, rulebook
from qcity.core.models import Role, Transition, User
from qcity.core.workflow import Forbidden, Invalid
from qcity.portal.models import PublishedComplaintStat

HOT_TOP = 3
# The disclosure covers the whole city: the city bureau publishes it (and the timer).
PUBLISHERS = frozenset({Role.COORDINATOR})
PUBLISHED_ACTION = "complaints.disclosure.published"
COMPLAINT_WORKFLOW = "complaints.complaint"
# The steps that end a mediation, and the states a mediation is in (services.OPEN_MEDIATION).
MEDIATION_ENDS = ("agree", "terminate", "withdraw")
MEDIATION_STATES = (Case.Status.ACCEPTED, Case.Status.MEDIATING, Case.Status.SUSPENDED)

# 不予公示: the grounds (codes of core.rulebook.grounds) that keep a complaint off the portal.
NOT_PUBLISHED_REFUSALS: dict[str, frozenset[str]] = {
    rulebook.ORDER20: frozenset({"1", "3", "5"}),
    rulebook.ORDER121: frozenset({"1", "3", "5", "6"}),
}
NOT_PUBLISHED_TERMINATIONS: dict[str, frozenset[str]] = {
    rulebook.ORDER20: frozenset({"6"}),
    rulebook.ORDER121: frozenset({"6"}),
}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


class BadPeriod(Invalid):
    code = "bad_period"


class PeriodNotOver(Invalid):
    code = "period_not_over"


@dataclass(frozen=True)
class Period:
    key: str  # "2026-10" or "2026"
    start: dt.date
    end: dt.date

    @property
    def is_year(self) -> bool:
        return len(self.key) == 4

    @property
    def previous(self) -> Period:
        if self.is_year:
            return parse_period(str(self.start.year - 1))
        last = self.start - dt.timedelta(days=1)
        return parse_period(f"{last.year:04d}-{last.month:02d}")

    @property
    def label(self) -> str:
        if self.is_year:
            return _("%(y)s年") % {"y": self.start.year}
        return _("%(y)s年%(m)s月") % {"y": self.start.year, "m": self.start.month}

    def moments(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as [start, end) in local time (Beijing), for timestamps."""
        first = timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))
        after = timezone.make_aware(
            dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min)
        )
        return first, after


def parse_period(text: str) -> Period:
    """ "2026-10" (a month) or "2026" (a year), 2000–2099; anything else is ``BadPeriod``."""
    text = (text or "").strip()
    month = _MONTH.match(text)
    year = _YEAR.match(text)
    if month:
        y, m = int(month.group(1)), int(month.group(2))
        if not 1 <= m <= 12:
            y = 0
    elif year:
        y, m = int(year.group(1)), 0
    else:
        y, m = 0, 0
    if not 2000 <= y <= 2099:
        raise BadPeriod(
            _("公示期间应为年月（如 2026-10）或年份（如 2026），年份在 2000 至 2099 之间。")
        )
    if m:
        start = dt.date(y, m, 1)
        following = dt.date(y + (m == 12), m % 12 + 1, 1)
        return Period(f"{y:04d}-{m:02d}", start, following - dt.timedelta(days=1))
    return Period(f"{y:04d}", dt.date(y, 1, 1), dt.date(y, 12, 31))


def _not_published_q() -> Q:
    q = Q(pk__in=[])
    for version, grounds in NOT_PUBLISHED_REFUSALS.items():
        q |= Q(rules=version, outcome=Case.Outcome.REFUSED, outcome_ground__in=grounds)
    for version, grounds in NOT_PUBLISHED_TERMINATIONS.items():
        q |= Q(rules=version, outcome=Case.Outcome.TERMINATED, outcome_ground__in=grounds)
    return q


def counted_complaints() -> QuerySet[Case]:
    """The complaints the disclosure counts: 全量公示 minus the 不予公示 exceptions."""
    return (
        Case.objects.filter(
            kind=Case.Kind.COMPLAINT, respondent_entity__isnull=False, duplicate_of__isnull=True
        )
        .exclude(_not_published_q())
        .order_by()
    )


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _growth(now: int, before: int) -> Decimal | None:
    if not before:
        return None
    return (Decimal(now - before) * 100 / Decimal(before)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _hot(counter: Counter, order: dict[int, tuple]) -> str:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], order[item[0]]))
    return "、".join(order[pk][2] for pk, _count in ranked[:HOT_TOP])


def mediation_ends(period: Period, cases: QuerySet[Case]) -> list[tuple[int, str]]:
    """(case pk, step) of each mediation of ``cases`` concluded in ``period``."""
    from django.contrib.contenttypes.models import ContentType

    first, after = period.moments()
    rows = Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(Case),
        workflow=COMPLAINT_WORKFLOW,
        step__in=MEDIATION_ENDS,
        from_state__in=MEDIATION_STATES,
        time__gte=first,
        time__lt=after,
    ).values_list("object_id", "step")
    ends = [(int(pk), step) for pk, step in rows]
    wanted = set(cases.filter(pk__in={pk for pk, _step in ends}).values_list("pk", flat=True))
    return [(pk, step) for pk, step in ends if pk in wanted]


def _odr_members(period: Period) -> set[int]:
    return set(
        OdrEnrolment.objects.filter(joined_on__lte=period.end)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=period.start))
        .values_list("entity_id", flat=True)
    )


def figures(period: Period) -> list[dict[str, Any]]:
    """The rows of ``period`` as field dicts of ``PublishedComplaintStat`` (not saved)."""
    from qcity.complaints.models import Category, IssueType
    from qcity.registry.models import MarketEntity

    counted = counted_complaints()
    received = counted.filter(received_on__gte=period.start, received_on__lte=period.end)
    before = period.previous
    previous = Counter(
        counted.filter(received_on__gte=before.start, received_on__lte=before.end).values_list(
            "respondent_entity_id", flat=True
        )
    )
    now: Counter = Counter()
    goods: dict[int, Counter] = defaultdict(Counter)
    issues: dict[int, Counter] = defaultdict(Counter)
    odr_left: Counter = Counter()
    odr_settled: Counter = Counter()
    for entity_id, category_id, issue_id, odr, status, outcome in received.values_list(
        "respondent_entity_id", "category_id", "issue_type_id", "odr", "status", "outcome"
    ):
        now[entity_id] += 1
        if category_id:
            goods[entity_id][category_id] += 1
        if issue_id:
            issues[entity_id][issue_id] += 1
        if odr and status != Case.Status.ODR:
            odr_left[entity_id] += 1
            odr_settled[entity_id] += outcome == Case.Outcome.ODR_SETTLED
    if not now:
        return []
    mediated: Counter = Counter()
    agreed: Counter = Counter()
    ends = mediation_ends(period, counted.filter(respondent_entity_id__in=list(now)))
    entity_of = dict(
        Case.objects.filter(pk__in={pk for pk, _s in ends}).values_list(
            "pk", "respondent_entity_id"
        )
    )
    for pk, step in ends:
        mediated[entity_of[pk]] += 1
        agreed[entity_of[pk]] += step == "agree"
    members = _odr_members(period)
    category_order = {
        c.pk: (c.sort_order, c.code, c.name) for c in Category.objects.all().order_by()
    }
    issue_order = {i.pk: (i.sort_order, i.code, i.name) for i in IssueType.objects.all().order_by()}
    entities = MarketEntity.objects.select_related("owner_unit").in_bulk(list(now))
    rows = []
    for entity_id in sorted(now, key=lambda pk: entities[pk].code):
        entity = entities[entity_id]
        member = entity_id in members
        rows.append(
            {
                "period": period.key,
                "entity_code": entity.code,
                "entity_name": entity.name,
                "region_code": entity.region_code,
                "authority": entity.owner_unit.full_name or entity.owner_unit.name,
                "complaints": now[entity_id],
                "previous_complaints": previous[entity_id],
                "growth_pct": _growth(now[entity_id], previous[entity_id]),
                "mediated": mediated[entity_id],
                "mediation_success_pct": _percent(agreed[entity_id], mediated[entity_id]),
                "odr_member": member,
                "odr_settled_pct": (
                    _percent(odr_settled[entity_id], odr_left[entity_id]) if member else None
                ),
                "hot_goods": _hot(goods[entity_id], category_order)[:300],
                "hot_issues": _hot(issues[entity_id], issue_order)[:300],
            }
        )
    return rows


@dataclass(frozen=True)
class Publication:
    period: Period
    rows: int
    complaints: int
    replaced: int


def publish(period: str, *, by: User | None, today: dt.date | None = None) -> Publication:
    """Publish (or re-publish) one ended period: its rows are replaced in one transaction.

    :param by: the staff member who pressed the button (the city bureau), or None for the
        timer.
    :raises Forbidden: ``by`` may not publish (a county sees only part of the city).
    :raises BadPeriod: not "YYYY-MM" or "YYYY".
    :raises PeriodNotOver: the period has not ended yet (figures would be partial).
    """
    if by is not None and by.role not in PUBLISHERS:
        raise Forbidden
    chosen = parse_period(period)
    today = today or timezone.localdate()
    if chosen.end >= today:
        raise PeriodNotOver(
            _("%(period)s尚未结束，结束后才能公示（可公示到 %(last)s 为止的期间）。")
            % {"period": chosen.label, "last": (today - dt.timedelta(days=1)).isoformat()}
        )
    with transaction.atomic():
        rows = figures(chosen)
        published_at = timezone.now()
        replaced, _deleted = PublishedComplaintStat.objects.filter(period=chosen.key).delete()
        PublishedComplaintStat.objects.bulk_create(
            [PublishedComplaintStat(published_at=published_at, **row) for row in rows]
        )
        result = Publication(chosen, len(rows), sum(r["complaints"] for r in rows), replaced)
        details: dict[str, Any] = {
            "period": chosen.key,
            "rows": result.rows,
            "complaints": result.complaints,
            "replaced": replaced,
        }
        if by is None:
            details["by"] = "timer"
        audit.record(PUBLISHED_ACTION, by=by, details=details)
    return result
