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
    assert "账户已锁定" in response.content.decode()
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
