"""Readable names for audit actions, export kinds and detail keys.

The audit chain stores stable codes (``auth.login_failed``); the audit admin
shows what they mean. Every action recorded anywhere in the code has a label
here (tests/core/test_admin_i18n.py checks the source); an unknown action,
e.g. one recorded by a newer version, falls back to its code.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Any] = {
    "auth.login": _("登录成功"),
    "auth.login_failed": _("登录失败"),
    "auth.locked": _("账户被锁定"),
    "auth.rate_limited": _("尝试过于频繁，已限制"),
    "auth.logout": _("退出登录"),
    "auth.idle_timeout": _("长时间未操作，自动退出"),
    "auth.session_expired": _("登录时长到上限，自动退出"),
    "user.created": _("创建账户"),
    "user.unlocked": _("解除锁定"),
    "user.password_reset": _("重置为临时密码"),
    "user.password_changed": _("修改密码"),
    "user.deactivated": _("停用账户"),
    "api_token.issued": _("签发 API 令牌"),
    "api_token.revoked": _("吊销 API 令牌"),
    "org_unit.loaded": _("加载组织机构"),
    "org_unit.unconfirmed_created": _("登记待确认单位"),
    "org_unit.confirmed": _("确认单位"),
    "org_unit.mapped": _("映射单位"),
    "calendar.loaded": _("加载节假日日历"),
    "calendar.year_entered": _("录入年度节假日安排"),
    "calendar.deadline_recomputed": _("按正式日历重算期限"),
    "audit.checkpoint": _("签署审计检查点"),
    "file.attached": _("上传附件"),
    "registry.inspector.created": _("登记执法检查人员"),
    "registry.inspector.updated": _("修改执法检查人员"),
    "registry.inspector.deactivated": _("停用执法检查人员"),
    "registry.inspector.reactivated": _("恢复执法检查人员"),
    "registry.conflict.declared": _("申报回避"),
    "registry.conflict.withdrawn": _("撤回回避申报"),
    "file.downloaded": _("下载附件"),
    "file.orphans_removed": _("清理无主附件文件"),
    "notice.created": _("发出通知"),
    "notice.read": _("通知标为已读"),
    "plan.imported": _("导入实施方案"),
    "plan.uploads_purged": _("清除过期的方案上传文件"),
    "plan.reimported": _("重新导入实施方案"),
    "plan.uploaded": _("上传实施方案文件"),
    "plan.upload_confirmed": _("确认导入上传的方案"),
    "plan.responsibilities_set": _("调整牵头和配合单位"),
    "plan.subtask_added": _("添加分解任务"),
    "plan.subtask_removed": _("删除分解任务"),
    "plan.subtask_changed": _("修改分解任务"),
    "export.xlsx": _("导出 XLSX"),
    "export.pdf": _("导出 PDF"),
    "indicator.created": _("新建指标"),
    "indicator_value.entered": _("填报指标值"),
    "indicator_value.calculated": _("自动计算指标值"),
    "target.indicator_linked": _("确认目标关联指标"),
    "target.indicator_unlinked": _("取消目标关联指标"),
    "file.removed": _("删除附件"),
    "reporting.cycle.opened": _("开启报送周期"),
    "reporting.cycle.closed": _("关闭报送周期"),
    "reporting.cycle.reopened": _("重新开启报送周期"),
    "reporting.report.saved": _("保存进展报告"),
    "reporting.report.submitted": _("报送进展报告"),
    "reporting.report.resubmitted": _("重新报送进展报告"),
    "reporting.report.county_approved": _("县区初审通过进展报告"),
    "reporting.report.returned": _("退回进展报告"),
    "reporting.report.approved": _("审核通过进展报告"),
    "reporting.report.locked": _("锁定进展报告"),
    "assessment.scheme.created": _("新建年度考核方案"),
    "assessment.criteria.set": _("修改年度考核指标"),
    "assessment.scheme.computed": _("计算年度考核得分"),
    "assessment.scheme.revised": _("修订年度考核方案"),
    "assessment.scheme.published": _("发布年度考核结果"),
    "assessment.scheme.reopened": _("重新开启年度考核"),
    "assessment.qualitative.scored": _("录入综合评价评分"),
    "assessment.adjustment.added": _("年度考核加减分"),
    "registry.entities.imported": _("批量导入市场主体名录"),
    "inspections.defaults_loaded": _("加载双随机参考数据"),
    "inspections.plan.created": _("新建年度抽查工作计划"),
    "inspections.batch.created": _("新建抽查批次"),
    "inspections.batch.updated": _("修改抽查批次"),
    "inspections.batch.draw": _("随机抽取检查对象"),
    "inspections.batch.redraw": _("重新抽取检查对象"),
    "inspections.batch.draw_refused": _("抽取检查对象未成功"),
    "inspections.batch.assign": _("随机分派检查人员"),
    "inspections.batch.assign_refused": _("随机分派检查人员未成功"),
    "inspections.task.enter_result": _("录入检查结果"),
    "inspections.task.correct_result": _("更正检查结果"),
    "inspections.batch.complete": _("完成抽查批次"),
    "inspections.followup.opened": _("发起后续处理"),
    "inspections.followup.reopened": _("重新发起后续处理"),
    "inspections.followup.withdrawn": _("结果更正，后续处理无需办理"),
    "inspections.followup.close": _("办结后续处理"),
    "inspections.task.publish": _("公示检查结果"),
    "inspections.draw.published": _("公示抽取记录"),
    "export.csv": _("导出 CSV"),
    "registry.demo_loaded": _("加载演示市场主体名录和执法检查人员"),
    "import.job_queued": _("提交导入任务"),
    "complaints.case.odr_settle": _("企业和解"),
    "complaints.case.odr_decline": _("企业未能和解，转市场监管部门"),
    "complaints.case.odr_return": _("ODR期满转市场监管部门"),
    "complaints.case.transfer": _("转办"),
    "complaints.case.dispute": _("提出管辖争议"),
    "complaints.case.designate": _("指定管辖"),
    "complaints.case.accept": _("受理"),
    "complaints.case.refuse": _("不予受理"),
    "complaints.case.mediate": _("开始调解"),
    "complaints.case.change_mediator": _("更换调解人员（回避）"),
    "complaints.case.suspend": _("中止调解计时（鉴定检测、回避）"),
    "complaints.case.resume": _("恢复调解计时"),
    "complaints.case.agree": _("达成调解协议"),
    "complaints.case.terminate": _("终止调解"),
    "complaints.case.withdraw": _("投诉人撤回投诉"),
    "complaints.case.notify": _("送达告知"),
    "complaints.case.extend": _("延长核查期限"),
    "complaints.case.supplement": _("补充举报（重新计算期限）"),
    "complaints.case.repeat": _("重复举报不再处理"),
    "complaints.case.file": _("立案"),
    "complaints.case.not_file": _("不予立案"),
    "complaints.case.close": _("办结（无需告知）"),
    "complaints.case.submitted": _("登记投诉举报"),
    "complaints.defaults_loaded": _("加载投诉举报参考数据"),
    "complaints.case.escalated": _("超期督办"),
    "complaints.case.lead_recorded": _("登记调解中发现的违法线索"),
    "complaints.case.payment": _("登记赔付"),
    "complaints.odr.enrolled": _("企业入驻ODR"),
    "complaints.odr.left": _("企业退出ODR"),
    "complaints.disclosure.published": _("发布消费投诉信息公示"),
    "complaints.case.pii_viewed": _("查看投诉举报人完整个人信息"),
    "pii.key_added": _("添加个人信息加密密钥"),
    "pii.reencrypted": _("用当前密钥重新加密个人信息"),
    "pii.key_rotated": _("个人信息密钥轮换完成"),
    "complaints.case.personal_data_erased": _("到期删除投诉举报人个人信息"),
}

# ``admin.<model>.<verb>`` is recorded by every admin page (core.admin.RoleAdmin).
ADMIN_VERBS: dict[str, Any] = {
    "added": _("后台新增"),
    "changed": _("后台修改"),
    "disabled": _("后台停用"),
    "enabled": _("后台启用"),
}

# ``details["what"]`` of ``export.xlsx`` and ``export.pdf``: which list or document it was.
EXPORT_LABELS: dict[str, Any] = {
    "registry.entities": _("检查对象名录"),
    "plan.breakdown": _("任务分解表"),
    "plan.matrix": _("责任矩阵"),
    "plan.my_measures": _("我的任务"),
    "reporting.cycle_reports": _("报送周期的进展报告"),
    "assessment.ranking": _("年度考核排名"),
    "reporting.quarterly": _("季度工作报告"),
    "inspections.batch_tasks": _("抽查批次的检查任务"),
    "inspections.tasks": _("检查任务"),
    "inspections.published_results": _("已公示的抽查结果（省级系统格式）"),
    "inspections.due_results": _("待公示的抽查结果（省级系统格式）"),
    "complaints.cases": _("投诉举报件"),
    "complaints.statistics": _("投诉举报统计"),
}

# The actions whose ``details["what"]`` says which export it was.
EXPORT_ACTIONS = ("export.xlsx", "export.pdf", "export.csv")

DETAIL_LABELS: dict[str, Any] = {
    "reason": _("原因"),
    "failed_count": _("失败次数"),
    "until": _("锁定至"),
    "after_failures": _("连续失败次数"),
    "fields": _("修改的字段"),
    "changes": _("变更"),
    "what": _("导出内容"),
    "rows": _("行数"),
    "role": _("角色"),
    "unit": _("单位"),
    "demo": _("演示数据"),
    "for": _("令牌持有人"),
    "source": _("来源"),
    "sha256": _("文件 SHA-256"),
    "unconfirmed_units": _("待确认单位"),
    "kind": _("类型"),
    "parent": _("上级单位"),
    "onto": _("映射到"),
    "onto_id": _("映射目标编号"),
    "references_moved": _("转移的引用数"),
    "created": _("新建"),
    "updated": _("更新"),
    "years": _("年度数"),
    "days": _("天数"),
    "max_attempts": _("每个时段最多尝试次数"),
    "window_seconds": _("时段长度（秒）"),
    "lead": _("牵头单位"),
    "support": _("配合单位"),
    "measure": _("举措"),
    "title": _("标题"),
    "deadline": _("完成时限"),
    "pages": _("页数"),
    "period": _("统计期间"),
    "complaints": _("投诉量"),
    "replaced": _("替换的原公示行数"),
}

REASON_LABELS: dict[str, Any] = {
    "unknown_user": _("用户名不存在"),
    "locked": _("账户锁定中"),
    "idle": _("长时间未操作"),
    "max_age": _("登录时长到上限"),
    "login_per_address": _("同一地址登录尝试过多"),
    "login_per_account": _("同一账户登录尝试过多"),
    "api_token_per_address": _("同一地址无效令牌过多"),
}


def action_label(action: str, details: dict | None = None) -> str:
    """The readable name of ``action``; an export says which list it was."""
    if action in ACTION_LABELS:
        label = str(ACTION_LABELS[action])
        if action in EXPORT_ACTIONS and details and details.get("what"):
            what = details["what"]
            label = f"{label}：{EXPORT_LABELS.get(what, what)}"
        return label
    parts = action.split(".")
    if len(parts) == 3 and parts[0] == "admin" and parts[2] in ADMIN_VERBS:
        return f"{ADMIN_VERBS[parts[2]]}{model_label(parts[1])}"
    return action


def model_label(model_name: str) -> str:
    """A model's verbose name from its lower-case name, or the name itself."""
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return str(model._meta.verbose_name)
    return model_name


def object_type_label(object_type: str) -> str:
    """``core.orgunit`` → 组织单位."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name) if object_type else ""
    except (LookupError, ValueError):
        return object_type


def field_label(object_type: str, name: str) -> str:
    try:
        return str(apps.get_model(object_type)._meta.get_field(name).verbose_name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return name


def detail_lines(object_type: str, details: dict) -> list[tuple[str, str]]:
    """``details`` as (label, text) pairs for people; the raw JSON stays beside it."""
    lines = []
    for key, value in details.items():
        label = str(DETAIL_LABELS.get(key, key))
        if key == "fields" and isinstance(value, list):
            text = "、".join(field_label(object_type, str(v)) for v in value)
        elif key == "changes" and isinstance(value, dict):
            text = "；".join(
                f"{field_label(object_type, str(k))}：{_pair(v)}" for k, v in value.items()
            )
        elif key == "what":
            text = str(EXPORT_LABELS.get(value, value))
        elif key == "reason":
            text = str(REASON_LABELS.get(value, value))
        elif isinstance(value, list):
            text = "；".join(str(v) for v in value) or "—"
        elif isinstance(value, bool):
            text = str(_("是") if value else _("否"))
        else:
            text = str(value)
        lines.append((label, text))
    return lines


def _pair(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) == 2:
        empty = str(_("（空）"))
        return f"{value[0] or empty} → {value[1] or empty}"
    return str(value)
