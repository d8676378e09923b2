"""What a production process needs before it serves a page, checked at start-up.

With ``QCITY_ENV=production`` the pages reference static files through
WhiteNoise's manifest (``staticfiles.json``, written by ``collectstatic``).
Without it every page is a 500; so is every page of a database that is
unreachable or not migrated. The WSGI entry point (``qcity/wsgi.py``) refuses
to start with one line saying what to run; ``qcity check --deploy`` reports
the static files as ``qcity.E001`` (it runs before ``migrate`` and needs no
database). PDF documents need a CJK font to embed (``core.pdf``, ADR 0022): a
production process without one refuses to start rather than failing each
download.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import Error, register
from django.core.files.storage import storages
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def startup_problems(*, database: bool = False) -> list[str]:
    """One line of Chinese per thing production start-up is missing; empty when ready."""
    problems = static_problems()
    if settings.PRODUCTION:
        from qcity.core.pdf import font_problems  # loads fpdf2 only where it is needed

        problems += font_problems()
        problems += pii_key_problems()
    if database and settings.PRODUCTION:
        problems += database_problems()
    return problems


def database_problems() -> list[str]:
    """The database answers and every migration is applied."""
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # OperationalError, ImproperlyConfigured…: say which, in one line
        reason = " ".join(str(exc).split())[:200]
        return [f"数据库无法连接或无法读取（{type(exc).__name__}: {reason}）：请检查 DATABASE_URL"]
    finally:
        # A server that forks workers after loading (gunicorn --preload) must not share this
        # connection with them.
        connections.close_all()
    if pending:
        return [f"数据库有 {len(pending)} 个迁移未执行：请先运行 qcity migrate --noinput"]
    return []


def static_problems() -> list[str]:
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return []  # development serves through the finders; nothing to collect
    command = "qcity collectstatic --noinput"
    if not storage.manifest_storage.exists(storage.manifest_name):
        return [f"静态文件未收集：请先运行 {command}（STATIC_ROOT={settings.STATIC_ROOT}）"]
    try:
        paths, _ = storage.load_manifest()
    except ValueError:  # not JSON, or a manifest version Django does not read
        return [f"静态文件清单已损坏：请重新运行 {command}（STATIC_ROOT={settings.STATIC_ROOT}）"]
    collected = set(paths)
    missing = sorted(path for path in _found_static_paths() if path not in collected)
    if missing:
        return [
            f"静态文件不完整：{len(missing)} 个文件未收集（如 {missing[0]}），请重新运行 {command}"
        ]
    return []


def _found_static_paths() -> set[str]:
    """What collectstatic would collect: every finder's files, under their prefix."""
    found = set()
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            prefix = getattr(storage, "prefix", None)
            found.add((f"{prefix}/{path}" if prefix else path).replace("\\", "/"))
    return found


@register(deploy=True)
def check_startup(app_configs: object = None, **kwargs: object) -> list[Error]:
    problems = static_problems()
    if settings.PRODUCTION:
        from qcity.core.pdf import font_problems

        problems += font_problems()
        problems += pii_key_problems()
    return [Error(problem, id="qcity.E001") for problem in problems]


def pii_key_problems() -> list[str]:
    """The personal-data key file exists, parses and is 0600 (production never creates it)."""
    from qcity.core.pii import key_problems

    return key_problems()
