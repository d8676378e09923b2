"""Django settings for qcity, read from the environment (see sample.env).

QCITY_ENV=production turns on the production posture: a real SECRET_KEY is
required, cookies are secure, HSTS is sent and no demo data is ever created.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from qcity.core.headers import static_file_headers
from qcity.env import (
    ImproperSetting,
    env_bool,
    env_choice,
    env_file,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("QCITY_VAR_DIR", str(BASE_DIR / "var")))

QCITY_ENV = env_str("QCITY_ENV", "development")
if QCITY_ENV not in {"development", "production", "test"}:
    raise ImproperSetting(f"QCITY_ENV must be development, production or test; got {QCITY_ENV!r}")
PRODUCTION = QCITY_ENV == "production"

_INSECURE_KEY = "django-insecure-qcity-development-only"
SECRET_KEY = env_str("SECRET_KEY") or ("" if PRODUCTION else _INSECURE_KEY)
if PRODUCTION and (len(SECRET_KEY) < 50 or "insecure" in SECRET_KEY):
    raise ImproperSetting(
        "SECRET_KEY must be set to a random value of at least 50 characters in production"
    )

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperSetting("DEBUG must be off in production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # `runserver` serves /static/ through WhiteNoise too, with the same headers.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "qcity.core",
    "qcity.plans",
    "qcity.metrics",
    "qcity.reporting",
    "qcity.dashboard",
    "qcity.assessment",
    "qcity.registry",
    "qcity.inspections",
    "qcity.portal",
    "qcity.complaints",
]

MIDDLEWARE = [
    # Outermost, so that it also sees the responses built from exceptions further in.
    "qcity.core.edge.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "qcity.core.middleware.ContentSecurityPolicyMiddleware",
    "qcity.core.headers.NoStoreMiddleware",
    "qcity.core.display.BidiNeutralisingMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the session, the form data or the database.
    "qcity.core.edge.RequestTextGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "qcity.core.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "qcity.urls"
WSGI_APPLICATION = "qcity.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "qcity" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "qcity.core.notices.unread_notices",
            ],
        },
    },
]

# SQLite (WAL, under var/) unless DATABASE_URL names another server.
_default_sqlite = f"sqlite:///{VAR_DIR / 'qcity.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", _default_sqlite))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # The test database is in memory; keep the file name stable otherwise.
    DATABASES["default"]["TEST"] = {"NAME": env_str("QCITY_TEST_SQLITE", None)}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
    if "postgresql" in DATABASES["default"]["ENGINE"]:
        # No JIT: PostgreSQL costs an OR'ed EXISTS (the data scope, ADR 0003) by its
        # per-row alternative, so every scoped list over ~10 000 rows was compiled
        # (0.3-0.8 s) and then run as a hashed semi-join that needed no compiling.
        # A web application's short queries never repay JIT. `?options=` in
        # DATABASE_URL overrides this.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# 等保 2.0 8.1.4.1 asks for complexity rules; the numbers are assessor practice, so configurable.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "qcity.core.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 10, minimum=8)},
    },
    {
        "NAME": "qcity.core.passwords.CharacterClassValidator",
        "OPTIONS": {"min_classes": env_int("PASSWORD_MIN_CLASSES", 3, minimum=1)},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # A forced change must not keep the temporary password; the demo password is public.
    {"NAME": "qcity.core.passwords.NotCurrentOrDemoPasswordValidator"},
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 30, minimum=1)
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30, minimum=1)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE_HOURS", 12, minimum=1) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90, minimum=1, maximum=3650)  # MAX_TOKEN_DAYS
# Beyond this an export is refused with a hint to filter first (core.exports), not truncated.
EXPORT_MAX_ROWS = env_int("EXPORT_MAX_ROWS", 100_000, minimum=1, maximum=1_000_000)
# The CJK font embedded in PDF documents (ADR 0022): a TrueType/OpenType file or collection;
# unset = the first system font of core.pdf.SYSTEM_FONTS that exists.
PDF_FONT = env_file(
    "QCITY_PDF_FONT",
    signatures=(b"\x00\x01\x00\x00", b"OTTO", b"ttcf", b"true"),
    kind="TrueType/OpenType font file (.ttf/.otf/.ttc)",
)
# Rate limits on authentication (ADR 0014): attempts per fixed window, counted in the
# database so that every worker process sees the same counts.
RATE_LIMIT_WINDOW_SECONDS = env_int("RATE_LIMIT_WINDOW_SECONDS", 300, minimum=1)
LOGIN_RATE_LIMIT_PER_ADDRESS = env_int("LOGIN_RATE_LIMIT_PER_ADDRESS", 60, minimum=1)
LOGIN_RATE_LIMIT_PER_ACCOUNT = env_int("LOGIN_RATE_LIMIT_PER_ACCOUNT", 10, minimum=1)
API_TOKEN_FAILURE_LIMIT_PER_ADDRESS = env_int("API_TOKEN_FAILURE_LIMIT_PER_ADDRESS", 20, minimum=1)
# Searches of the public portal per address and window (ADR 0031).
PORTAL_SEARCH_RATE_LIMIT_PER_ADDRESS = env_int(
    "PORTAL_SEARCH_RATE_LIMIT_PER_ADDRESS", 120, minimum=1
)
# Reverse proxies in front of the app that append to X-Forwarded-For (0: none, use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# `@paginate` without an argument gets the bounded limit/offset too (ADR 0014).
NINJA_PAGINATION_CLASS = "qcity.core.paging.LimitOffset"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "qcity" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end packages come from npm at set-up time and are served from here: no CDN.
STATICFILES_DIRS = [
    BASE_DIR / "qcity" / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
# Single files of larger packages (core.staticfinders): ECharts' dist/ is 51 MB, the page
# uses one 1 MB file of it.
VENDOR_STATIC_FILES = {
    "vendor/echarts/echarts.min.js": BASE_DIR
    / "node_modules"
    / "echarts"
    / "dist"
    / "echarts.min.js",
}
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "qcity.core.staticfinders.VendorFileFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Attachments (core.files, ADR 0017): a directory by default; object storage in
    # production is django-storages' S3 backend named here (README, "Attachments").
    "attachments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(Path(env_str("QCITY_ATTACHMENT_DIR", str(VAR_DIR / "attachments")))),
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    },
    # Files published on the public portal (draw population files, ADR 0031): apart from the
    # attachments, whose orphan sweep deletes any file no Attachment row names.
    "publication": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(Path(env_str("QCITY_PUBLICATION_DIR", str(VAR_DIR / "publication")))),
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_ADD_HEADERS_FUNCTION = static_file_headers
if not PRODUCTION:
    # Development serves through the finders; the empty root keeps WhiteNoise quiet.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Attachments (core.files, ADR 0017): size limit, accepted types (detected from the
# content), and how old a stored file without a row must be before the sweep removes it.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_MB", 20, minimum=1, maximum=2048) * 1024 * 1024
ATTACHMENT_ALLOWED_TYPES = env_list(
    "ATTACHMENT_ALLOWED_TYPES", ["pdf", "png", "jpeg", "gif", "webp", "docx", "xlsx", "pptx"]
)
ATTACHMENT_ORPHAN_HOURS = env_int("ATTACHMENT_ORPHAN_HOURS", 6, minimum=1)
# Files uploaded to the browser import (core.imports): kept with their errors list.
IMPORT_DIR = Path(env_str("QCITY_IMPORT_DIR", str(VAR_DIR / "imports")))

# Notices (core.notices, ADR 0018): the message channels every notice goes through
# besides the in-app list. "email" sends through Django's SMTP backend below.
NOTICE_CHANNELS = env_list("NOTICE_CHANNELS", ["log"])
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "qcity@localhost")

# 12315 complaints (core.rulebook, docs/rulebook.md): the choices the legal texts leave open.
# Order 20's 45 working days ("order20") or the 消保法实施条例's 60 days ("regulation") for
# mediation in cases received 2024-07-01 … 2026-04-14.
COMPLAINT_MEDIATION_FROM_2024 = env_choice(
    "COMPLAINT_MEDIATION_FROM_2024", "order20", ["order20", "regulation"]
)
# Cases still open on 2026-04-15: keep the rules of their received date ("received"), or
# take each later clock from the rules in force when it starts ("current").
COMPLAINT_PENDING_CASES_RULES = env_choice(
    "COMPLAINT_PENDING_CASES_RULES", "received", ["received", "current"]
)
# Order 121 Art.45: does a calendar-day period ending on an ordinary weekend roll over?
COMPLAINT_WEEKEND_IS_HOLIDAY = env_bool("COMPLAINT_WEEKEND_IS_HOLIDAY", True)
# The ODR period (a local rule; no national text fixes it).
COMPLAINT_ODR_WORKDAYS = env_int("COMPLAINT_ODR_WORKDAYS", 10, minimum=1, maximum=60)
# Personal data at rest (core.pii): the SM4 key file, outside the database.
PII_KEY_FILE = Path(env_str("QCITY_PII_KEY_FILE", str(VAR_DIR / "pii.key")))
# The public complaint form (complaints.pow, ADR 0036): proof-of-work difficulty in leading
# zero bits of SHA-256 (16 ≈ 65 000 hashes, about a second in a browser) and how long a
# challenge stays good; submissions and follow-page lookups per address and rate window.
COMPLAINT_POW_BITS = env_int("COMPLAINT_POW_BITS", 16, minimum=0, maximum=28)
COMPLAINT_POW_SECONDS = env_int("COMPLAINT_POW_SECONDS", 3600, minimum=60)
COMPLAINT_SUBMIT_RATE_LIMIT_PER_ADDRESS = env_int(
    "COMPLAINT_SUBMIT_RATE_LIMIT_PER_ADDRESS", 20, minimum=1
)
COMPLAINT_FOLLOW_RATE_LIMIT_PER_ADDRESS = env_int(
    "COMPLAINT_FOLLOW_RATE_LIMIT_PER_ADDRESS", 30, minimum=1
)
# How long a closed case keeps its complainant's or reporter's identity (years after closing);
# then `qcity purge_personal_data` (a daily timer) erases it. No legal text fixes the period:
# 3 is the civil limitation period (民法典 Art.188), after which the data proves no claim;
# PIPL Art.19/47 ask for the shortest necessary (docs/personal-data.md).
COMPLAINT_RETENTION_YEARS = env_int("COMPLAINT_RETENTION_YEARS", 3, minimum=1, maximum=30)

# Background work (ADR 0019): django-tasks with the database backend; `qcity db_worker`
# runs the tasks, `qcity run_timers` enqueues the due scheduled jobs.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page meta tag, not the cookie
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Production never creates demo users; see qcity.core.demo.
QCITY_DEMO_DATA = not PRODUCTION

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # fontTools reports every glyph it keeps when fpdf2 subsets a font (core.pdf).
        "fontTools": {"level": "WARNING"},
    },
}

AUTHENTICATION_BACKENDS = ["qcity.core.auth_backends.LockoutModelBackend"]
