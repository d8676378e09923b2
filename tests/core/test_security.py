import os
import subprocess
import sys

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings

from qcity.core.models import AuditEvent, User
from tests.conftest import PASSWORD


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _login_error(response) -> str:
    html = response.content.decode()
    start = html.index('data-testid="login-error">') + len('data-testid="login-error">')
    return html[start : html.index("</div>", start)]


@pytest.mark.django_db
def test_it_logs_in_and_audits_it(client, personas):
    response = _login(client, "nongye", PASSWORD)
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="auth.login").get()
    assert event.actor == personas["nongye"]


@pytest.mark.django_db
@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_MINUTES=30)
def test_it_locks_an_account_after_repeated_failures_even_for_the_right_password(client, personas):
    for _ in range(3):
        response = _login(client, "nongye", "wrong-password")
        assert response.status_code == 200
    user = User.objects.get(username="nongye")
    assert user.is_locked()
    response = _login(client, "nongye", PASSWORD)
    assert response.status_code == 200
    assert "账户已被锁定" in _login_error(response)
    assert AuditEvent.objects.filter(action="auth.locked", object_id=str(user.pk)).count() == 1
    assert not AuditEvent.objects.filter(action="auth.login").exists()


@pytest.mark.django_db
@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_LOCKOUT_MINUTES=30)
def test_it_unlocks_after_the_lockout_period(client, personas):
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False):
        _login(client, "gongxin", "bad")
        _login(client, "gongxin", "bad")
        assert _login(client, "gongxin", PASSWORD).status_code == 200
    with time_machine.travel("2026-03-02 09:31 +0800", tick=False):
        assert _login(client, "gongxin", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_it_audits_failures_for_unknown_names_without_the_password(client, org_units):
    _login(client, "nobody", "s3cret-typed")
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.success is False
    assert event.actor_label == "nobody"
    assert "s3cret-typed" not in str(event.details)


@pytest.mark.django_db
@override_settings(SESSION_IDLE_TIMEOUT_MINUTES=15)
def test_it_logs_out_an_idle_session(client, personas):
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False):
        client.force_login(personas["nongye"])
        assert client.get("/plans/").status_code == 200
    with time_machine.travel("2026-03-02 09:14 +0800", tick=False):
        assert client.get("/plans/").status_code == 200
    with time_machine.travel("2026-03-02 09:30 +0800", tick=False):
        response = client.get("/plans/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.filter(action="auth.idle_timeout").count() == 1


@pytest.mark.django_db
def test_it_sends_a_csp_without_inline_script(client, personas):
    client.force_login(personas["coordinator"])
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in response.content.decode()


@pytest.mark.django_db
def test_it_requires_csrf_on_login(personas):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "nongye", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize("password", ["short1A!", "alllowercaseletters", "1234567890123"])
def test_it_rejects_weak_passwords(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_it_accepts_a_strong_password():
    validate_password("Zhiliang#Tieling2026")


def _run_settings_check(env: dict, *args: str) -> subprocess.CompletedProcess:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "QCITY_ENV")
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "qcity.cli", "check", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_in_production_without_a_secret_key():
    result = _run_settings_check({"QCITY_ENV": "production", "ALLOWED_HOSTS": "qcity.example"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_rejects_a_malformed_boolean_setting():
    result = _run_settings_check({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_it_passes_the_deploy_check_with_production_settings(tmp_path):
    env = {
        "QCITY_ENV": "production",
        "ALLOWED_HOSTS": "qcity.example",
        "SECRET_KEY": "k" * 20 + "Zx9#Qv2!Lm7@Rt4$Wb8%Yn3^Hc6&Jd1*Pf5(Ge0)" + "s" * 10,
        "QCITY_VAR_DIR": str(tmp_path),  # production needs collected static files (qcity.E001)
    }
    subprocess.run(
        [sys.executable, "-m", "qcity.cli", "collectstatic", "--noinput"],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
        timeout=300,
    )
    # …and the personal-data key file (production never creates it on first use).
    subprocess.run(
        [sys.executable, "-m", "qcity.cli", "pii_keygen"],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
        timeout=120,
    )
    result = _run_settings_check(env, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.django_db
@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_LOCKOUT_MINUTES=30)
def test_one_typo_after_the_lock_expires_does_not_lock_again(client, personas):
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False):
        _login(client, "gongxin", "bad")
        _login(client, "gongxin", "bad")
    with time_machine.travel("2026-03-02 09:31 +0800", tick=False):
        _login(client, "gongxin", "bad-once")
        assert not User.objects.get(username="gongxin").is_locked()
        assert _login(client, "gongxin", PASSWORD).status_code == 302


@pytest.mark.django_db
@override_settings(SESSION_IDLE_TIMEOUT_MINUTES=30, SESSION_COOKIE_AGE=3600)
def test_an_active_session_still_ends_at_the_maximum_age(client, personas):
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False) as traveller:
        client.force_login(personas["nongye"])
        for _ in range(5):
            assert client.get("/plans/").status_code == 200
            traveller.shift(15 * 60)
        response = client.get("/plans/")  # 75 minutes after login, never idle
        assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.session_expired").count() == 1


def test_passwords_are_hashed_with_argon2_outside_the_tests():
    from qcity import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


# --- item 2: a forced password change must leave a password nobody else knows -------------

DEMO_PASSWORD = "Qcity#2026demo"


def _forced_change(client, personas, new_password):
    from qcity.core.services import reset_password

    temporary = reset_password(personas["nongye"], by=personas["secadmin"])
    assert _login(client, "nongye", temporary).status_code == 302
    response = client.post(
        "/accounts/password/",
        {
            "old_password": temporary,
            "new_password1": new_password or temporary,
            "new_password2": new_password or temporary,
        },
    )
    return temporary, response


@pytest.mark.django_db
def test_a_forced_change_refuses_the_temporary_password_itself(client, personas):
    temporary, response = _forced_change(client, personas, None)
    assert response.status_code == 200
    assert "新密码不能与当前密码（包括安全管理员发放的临时密码）相同。" in response.content.decode()
    user = User.objects.get(username="nongye")
    assert user.must_change_password and user.check_password(temporary)
    assert not AuditEvent.objects.filter(action="user.password_changed").exists()
    assert client.get("/plans/")["Location"] == "/accounts/password/"


@pytest.mark.django_db
@override_settings(AUTH_PASSWORD_VALIDATORS=[])
def test_the_change_form_refuses_the_temporary_password_even_without_the_validator_setting(
    client, personas
):
    temporary, response = _forced_change(client, personas, None)
    assert response.status_code == 200
    user = User.objects.get(username="nongye")
    assert user.must_change_password and user.check_password(temporary)


@pytest.mark.django_db
@override_settings(QCITY_DEMO_DATA=False)
def test_the_demo_password_is_refused_outside_demo_mode(client, personas):
    _, response = _forced_change(client, personas, DEMO_PASSWORD)
    assert response.status_code == 200
    assert "不能使用公开的演示密码。" in response.content.decode()
    assert not User.objects.get(username="nongye").check_password(DEMO_PASSWORD)
    with pytest.raises(ValidationError) as refused:
        validate_password(DEMO_PASSWORD)
    assert "password_is_demo" in [e.code for e in refused.value.error_list]


@pytest.mark.django_db
@override_settings(QCITY_DEMO_DATA=True)
def test_the_demo_password_is_accepted_where_demo_data_is(client, personas):
    _, response = _forced_change(client, personas, DEMO_PASSWORD)
    assert response.status_code == 302
    assert User.objects.get(username="nongye").check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_a_new_password_that_differs_from_the_temporary_one_is_accepted(client, personas):
    temporary, response = _forced_change(client, personas, "Nongye#Tieling2026")
    assert response.status_code == 302
    user = User.objects.get(username="nongye")
    assert not user.must_change_password and not user.check_password(temporary)


@pytest.mark.django_db
@override_settings(QCITY_DEMO_DATA=False)
def test_create_admin_refuses_the_demo_password_in_production(org_units, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    secret = tmp_path / "pw"
    secret.write_text(DEMO_PASSWORD)
    with pytest.raises(CommandError, match="演示密码"):
        call_command(
            "create_admin",
            "root-sec",
            "--role",
            "security_admin",
            "--unit",
            "市市场监管局",
            "--password-file",
            str(secret),
        )
    assert not User.objects.filter(username="root-sec").exists()


# --- item 13: the login page does not tell which accounts exist -----------------------------


@pytest.mark.django_db
@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_LOCKOUT_MINUTES=30)
def test_a_locked_account_an_unknown_name_and_a_wrong_password_get_the_same_answer(
    client, personas
):
    wrong = _login(client, "gongxin", "bad")
    _login(client, "gongxin", "bad")
    assert User.objects.get(username="gongxin").is_locked()
    locked = _login(client, "gongxin", PASSWORD)
    unknown = _login(client, "nobody-here", PASSWORD)
    inactive_user = personas["xifeng"]
    User.objects.filter(pk=inactive_user.pk).update(is_active=False)
    inactive = _login(client, "xifeng", PASSWORD)
    answers = {_login_error(r) for r in (wrong, locked, unknown, inactive)}
    assert len(answers) == 1
    (answer,) = answers
    assert "用户名或密码错误，或账户已被锁定" in answer
    assert ":" not in answer  # no lock time either
    assert {r.status_code for r in (wrong, locked, unknown, inactive)} == {200}


# --- item 13: caching and static-file headers -----------------------------------------------


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "") and response.get("Pragma") == "no-cache"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("coordinator", "/"),
        ("coordinator", "/plans/"),
        ("nongye", "/plans/mine/"),
        ("nongye", "/plans/mine/export.xlsx"),
        ("coordinator", "/accounts/password/"),
        ("auditadmin", "/admin/core/auditevent/"),
        ("secadmin", "/admin/core/user/"),
        ("nongye", "/plans/999999/"),  # an error page shown to a logged-in user
        ("coordinator", "/api/v1/plans"),
    ],
)
def test_every_response_to_a_logged_in_user_is_no_store(client, personas, persona, path):
    client.force_login(personas[persona])
    response = client.get(path)
    assert _no_store(response), (path, response.get("Cache-Control"))


@pytest.mark.django_db
def test_an_export_is_no_store(client, plan, personas):
    client.force_login(personas["coordinator"])
    response = client.get(f"/plans/{plan.pk}/export.xlsx")
    assert response["Content-Disposition"].startswith("attachment")
    assert _no_store(response)


@pytest.mark.django_db
def test_an_api_call_with_a_bearer_token_is_no_store(client, personas):
    from qcity.core.services import issue_api_token

    token = issue_api_token(personas["nongye"], name="对接", by=personas["secadmin"])
    response = client.get("/api/v1/plans", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert _no_store(response)


@pytest.mark.django_db
def test_public_pages_and_static_files_stay_cacheable(client):
    assert not _no_store(client.get("/accounts/login/"))
    assert not _no_store(client.get("/static/qcity/app.css"))


@pytest.mark.django_db
@override_settings(SECURE_CONTENT_TYPE_NOSNIFF=False)
def test_static_files_carry_nosniff_from_whitenoise_itself(client):
    # SecurityMiddleware is switched off for this: the header must come from WhiteNoise's hook.
    for path in ("/static/qcity/app.css", "/static/vendor/bootstrap/js/bootstrap.bundle.min.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff", path


def test_static_files_carry_nosniff_under_runserver(tmp_path):
    """`make run` serves /static/ through runserver: check the real server, not the test client."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("QCITY_ENV", "DEBUG")}
    env["QCITY_VAR_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "qcity.cli", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/static/qcity/app.css", timeout=5
                ) as response:
                    assert response.status == 200
                    assert response.headers["X-Content-Type-Options"] == "nosniff"
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.django_db
def test_a_too_short_password_is_refused_in_chinese(client, personas):
    # Django 5.2's own message has no zh_Hans translation yet: it came out in English.
    _, response = _forced_change(client, personas, "Ab#1")
    assert response.status_code == 200
    page = response.content.decode()
    assert "密码太短，至少需要 10 个字符。" in page
    assert "too short" not in page
    with pytest.raises(ValidationError) as refused:
        validate_password("Ab#1")
    assert "password_too_short" in [e.code for e in refused.value.error_list]
