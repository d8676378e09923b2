"""Demo users for local use. Never created under production settings."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from qcity.core import audit
from qcity.core.models import OrgUnit, Role, User

DEMO_PASSWORD = "Qcity#2026demo"

# (username, full name, role, unit name)
DEMO_USERS = [
    ("coordinator", "王协调", Role.COORDINATOR, "市市场监管局"),
    ("nongye", "李农业", Role.DEPARTMENT_LIAISON, "市农业农村局"),
    ("gongxin", "赵工信", Role.DEPARTMENT_LIAISON, "市工业和信息化局"),
    ("kaiyuan", "孙开原", Role.COUNTY_OFFICER, "开原市市场监督管理局"),
    ("xifeng", "周西丰", Role.COUNTY_OFFICER, "西丰县市场监督管理局"),
    ("inspector", "吴执法", Role.INSPECTOR, "开原市城区市场监督管理所"),
    ("lab", "郑检测", Role.LAB, "铁岭检验检测中心"),
    ("enterprise", "钱企业", Role.ENTERPRISE, None),
    ("sysadmin", "冯系统", Role.SYSTEM_ADMIN, "市市场监管局"),
    ("secadmin", "陈安全", Role.SECURITY_ADMIN, "市市场监管局"),
    ("auditadmin", "褚审计", Role.AUDIT_ADMIN, "市市场监管局"),
]


class DemoDataRefused(Exception):
    pass


@transaction.atomic
def create_demo_users() -> int:
    if not settings.QCITY_DEMO_DATA:
        raise DemoDataRefused("生产环境不创建演示用户")
    created = 0
    for username, full_name, role, unit_name in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        unit = OrgUnit.objects.get(name=unit_name) if unit_name else None
        user = User(
            username=username,
            full_name=full_name,
            role=role,
            unit=unit,
            is_staff=role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN),
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        audit.record(
            "user.created",
            by=None,
            obj=user,
            actor_label="system",
            details={"role": role, "unit": unit_name, "demo": True},
        )
        created += 1
    return created
