"""Two counties' registers: what kaiyuan may see, xifeng must never see, and vice versa."""

from dataclasses import dataclass

import pytest
from django.utils import timezone

from qcity.registry.models import Conflict, Inspector, MarketEntity
from tests.registry.helpers import entity, inspector, speciality

KAIYUAN = "开原市市场监督管理局"
XIFENG = "西丰县市场监督管理局"
KAIYUAN_STATION = "开原市城区市场监督管理所"


@dataclass
class Registers:
    kaiyuan_entities: list[MarketEntity]
    xifeng_entities: list[MarketEntity]
    own: Inspector  # the inspector persona's record (开原市城区所)
    kaiyuan_officer: Inspector
    xifeng_officer: Inspector
    kaiyuan_conflict: Conflict
    xifeng_conflict: Conflict

    @property
    def all_codes(self) -> set[str]:
        return {e.code for e in self.kaiyuan_entities + self.xifeng_entities}


@pytest.fixture
def registers(personas) -> Registers:
    food = speciality()
    kaiyuan = [
        entity("开原市金鑫奶粉店", KAIYUAN, 1, risk_class="A"),
        entity("开原市鑫源食品超市", KAIYUAN, 2, risk_class="C", on_abnormal_list=True),
        entity("开原市康宁药房", KAIYUAN, 3, kind=MarketEntity.Kind.INDIVIDUAL),
    ]
    xifeng = [
        entity("西丰县鹿茸奶粉专营店", XIFENG, 1, risk_class="B"),
        entity("西丰县平安食品商店", XIFENG, 2, status=MarketEntity.Status.REVOKED),
    ]
    own = inspector("吴执法", KAIYUAN_STATION, "KY-0001", user=personas["inspector"])
    own.specialities.add(food)
    kaiyuan_officer = inspector("孙检查", KAIYUAN, "KY-0002")
    xifeng_officer = inspector("周检查", XIFENG, "XF-0001")
    xifeng_officer.specialities.add(food)
    now = timezone.now()
    kc = Conflict.objects.create(
        inspector=own,
        entity=kaiyuan[0],
        reason="近亲属任职",
        declared_at=now,
        declared_by=personas["inspector"],
    )
    xc = Conflict.objects.create(
        inspector=xifeng_officer,
        entity=xifeng[0],
        reason="曾在该企业工作",
        declared_at=now,
        declared_by=personas["xifeng"],
    )
    return Registers(kaiyuan, xifeng, own, kaiyuan_officer, xifeng_officer, kc, xc)
