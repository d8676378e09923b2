"""Production start-up: refuses in one line without collected static files or migrations.

Each case runs in a fresh process with production settings and its own
QCITY_VAR_DIR, as a deployment would; nothing here touches the test database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECRET = "k" * 20 + "Zx9#Qv2!Lm7@Rt4$Wb8%Yn3^Hc6&Jd1*Pf5(Ge0)" + "s" * 10

# Call the WSGI application as a server would, over HTTPS behind the proxy.
SERVE_LOGIN_PAGE = textwrap.dedent(
    """
    from wsgiref.util import setup_testing_defaults
    from qcity.wsgi import application
    environ = {"PATH_INFO": "/accounts/login/", "HTTP_HOST": "qcity.example",
               "HTTP_X_FORWARDED_PROTO": "https"}
    setup_testing_defaults(environ)
    statuses = []
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    print(statuses[0], "登录" in body.decode())
    """
)


def _production(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DEBUG", "QCITY_ENV", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        QCITY_ENV="production",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="qcity.example",
        QCITY_VAR_DIR=str(var_dir),
        PYTHONWARNINGS="ignore",
    )
    env.pop("DATABASE_URL", None)  # the login page needs no database; keep it off the server
    return env


def _run(var_dir: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env=_production(var_dir), capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def _qcity(var_dir: Path, *args: str) -> None:
    result = _run(var_dir, sys.executable, "-m", "qcity.cli", *args)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """Static files collected, database (SQLite under the var dir) not migrated."""
    var_dir = tmp_path_factory.mktemp("var")
    _qcity(var_dir, "collectstatic", "--noinput")
    # The first deployment creates the personal-data key (docs/personal-data.md).
    _qcity(var_dir, "pii_keygen")
    return var_dir


@pytest.fixture(scope="module")
def released(collected, tmp_path_factory) -> Path:
    """Collected and migrated: what `make release` leaves behind."""
    import shutil

    var_dir = tmp_path_factory.mktemp("released") / "var"
    shutil.copytree(collected, var_dir)
    _qcity(var_dir, "migrate", "--noinput")
    return var_dir


def test_without_collectstatic_the_wsgi_start_up_refuses_in_one_line(tmp_path):
    result = _run(tmp_path, sys.executable, "-c", "import qcity.wsgi")
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "静态文件未收集" in lines[0] and "qcity collectstatic --noinput" in lines[0]
    assert str(tmp_path / "static") in lines[0]


def test_without_collectstatic_the_deploy_check_names_the_problem(tmp_path):
    result = _run(tmp_path, sys.executable, "-m", "qcity.cli", "check", "--deploy")
    assert result.returncode != 0
    assert "qcity.E001" in result.stderr and "静态文件未收集" in result.stderr


def test_gunicorn_stops_with_the_reason_instead_of_serving_500s(tmp_path):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = _run(
        tmp_path, str(gunicorn), "qcity.wsgi", "--preload", "--bind", "127.0.0.1:0", timeout=60
    )
    assert result.returncode == 3
    assert "qcity 无法启动：静态文件未收集" in result.stderr


def test_without_migrations_the_wsgi_start_up_refuses_in_one_line(collected):
    result = _run(collected, sys.executable, "-c", "import qcity.wsgi")
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "个迁移未执行：请先运行 qcity migrate --noinput" in lines[0]


def test_an_unreachable_database_is_named_at_start_up(collected):
    env = _production(collected)
    env["DATABASE_URL"] = "postgres://nobody:x@127.0.0.1:1/none"
    result = subprocess.run(
        [sys.executable, "-c", "import qcity.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "数据库无法连接" in result.stderr and "DATABASE_URL" in result.stderr


def test_after_a_release_the_pages_are_served(released):
    result = _run(released, sys.executable, "-c", SERVE_LOGIN_PAGE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "OK", "True"]


def test_after_collectstatic_the_deploy_check_passes(collected):
    result = _run(
        collected, sys.executable, "-m", "qcity.cli", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_a_stale_collection_is_refused_too(released, tmp_path):
    import json
    import shutil

    stale = tmp_path / "var"
    shutil.copytree(released, stale)
    manifest = stale / "static" / "staticfiles.json"
    data = json.loads(manifest.read_text())
    del data["paths"]["qcity/app.css"]
    manifest.write_text(json.dumps(data))
    result = _run(stale, sys.executable, "-c", "import qcity.wsgi")
    assert result.returncode == 3
    assert "静态文件不完整" in result.stderr and "qcity/app.css" in result.stderr


def test_without_a_chinese_font_for_pdf_documents_start_up_refuses(collected):
    latin_only = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    if not Path(latin_only).is_file():
        pytest.skip("needs fonts-dejavu-core, a font without Chinese glyphs")
    env = _production(collected)
    env["QCITY_PDF_FONT"] = latin_only
    result = subprocess.run(
        [sys.executable, "-c", "import qcity.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "不含中文字形" in result.stderr and "QCITY_PDF_FONT" in result.stderr


def test_without_the_personal_data_key_start_up_refuses_and_the_deploy_check_says_so(
    collected, tmp_path
):
    import shutil

    var_dir = tmp_path / "var"
    shutil.copytree(collected, var_dir)
    (var_dir / "pii.key").unlink()
    result = _run(var_dir, sys.executable, "-c", "import qcity.wsgi")
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "个人信息密钥文件" in result.stderr and "不存在" in result.stderr
    # Start-up never creates it in production: a new key would make every token unreadable.
    assert not (var_dir / "pii.key").exists()
    check = _run(var_dir, sys.executable, "-m", "qcity.cli", "check", "--deploy")
    assert check.returncode != 0
    assert "qcity.E001" in check.stderr and "qcity pii_keygen" in check.stderr


def test_a_world_readable_personal_data_key_is_refused_at_start_up(collected, tmp_path):
    import shutil

    var_dir = tmp_path / "var"
    shutil.copytree(collected, var_dir)
    (var_dir / "pii.key").chmod(0o644)
    result = _run(var_dir, sys.executable, "-m", "qcity.cli", "check", "--deploy")
    assert result.returncode != 0
    assert "权限过宽" in result.stderr
