"""Rows for the complaints tests: entities, enterprise accounts and cases in any state.

``make_case`` writes a case row directly, in the state asked for, so a test of one step
does not depend on every step before it; tests of intake use ``intake.submit`` instead.
"""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from qcity.complaints.models import Case, Submission
from qcity.core import pii, rulebook
from qcity.core.models import OrgUnit, Role, User
from qcity.registry.codes import make_uscc
from qcity.registry.models import EntityAccount, MarketEntity
from tests.conftest import make_user

_serial = itertools.count(1)
KAIYUAN_BUREAU = "开原市市场监督管理局"
XIFENG_BUREAU = "西丰县市场监督管理局"
REGION = {KAIYUAN_BUREAU: "211282", XIFENG_BUREAU: "211223"}


def make_entity(bureau: str = KAIYUAN_BUREAU, name: str = "", **fields) -> MarketEntity:
    n = next(_serial)
    region = REGION.get(bureau, "211282")
    return MarketEntity.objects.create(
        code=make_uscc(region, 900000 + n),
        name=name or f"测试商贸有限公司{n}",
        kind=MarketEntity.Kind.ENTERPRISE,
        region_code=region,
        owner_unit=OrgUnit.objects.get(name=bureau),
        address=fields.pop("address", f"辽宁省铁岭市开原市新华路{n}号"),
        **fields,
    )


def enterprise_user(entity: MarketEntity, username: str = "") -> User:
    user = make_user(username or f"ent{entity.pk}", Role.ENTERPRISE, None)
    EntityAccount.objects.create(user=user, entity=entity)
    return user


def make_case(
    *,
    kind: str = Case.Kind.COMPLAINT,
    status: str | None = None,
    bureau: str = KAIYUAN_BUREAU,
    received_on: dt.date = dt.date(2026, 6, 1),
    entity: MarketEntity | None = None,
    name: str = "张三丰",
    phone: str = "13800138000",
    id_number: str = "",
    **fields,
) -> Case:
    n = next(_serial)
    received_at = timezone.make_aware(dt.datetime.combine(received_on, dt.time(10, 0)))
    submission = Submission.objects.create(channel=Submission.Channel.WEB, received_at=received_at)
    if status is None:
        status = Case.Status.RECEIVED if kind == Case.Kind.COMPLAINT else Case.Status.VERIFYING
    return Case.objects.create(
        number=f"T{received_on:%Y%m%d}{n:06d}",
        kind=kind,
        submission=submission,
        received_at=received_at,
        received_on=received_on,
        rules=rulebook.version_on(received_on),
        owner_unit=OrgUnit.objects.get(name=bureau),
        status=status,
        person_name=name,
        person_phone=pii.encrypt(phone),
        person_phone_index=pii.blind_index("phone", phone),
        person_id_number=pii.encrypt(id_number),
        person_id_index=pii.blind_index("id_number", id_number),
        respondent_entity=entity,
        respondent_name=entity.name if entity else fields.pop("respondent_name", "某商店"),
        respondent_code=entity.code if entity else "",
        facts=fields.pop("facts", "购买的电热水壶使用三天后漏电，商家拒绝退货。"),
        request=fields.pop("request", "退货退款"),
        **fields,
    )
