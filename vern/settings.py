"""vern's settings, all read from the environment through ``vern.lib.env``.

See ``.env.example`` and ``docs/configuration.md`` for every variable. Safe
defaults: DEBUG is off, secrets are never in this file, and a malformed value
stops start-up with one line that says what is wrong.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF

from vern.lib.crypto import IndexKeys, Keyring, generate_key, parse_index_key
from vern.lib.env import ConfigError, Env
from vern.lib.private import private_directory
from vern.lib.urls import database_settings, email_settings

env = Env()

PACKAGE_DIR = Path(__file__).resolve().parent
# In a source checkout the data lives in its var/, whatever directory a command runs
# from; an installed vern uses ./var unless VERN_DATA_DIR says otherwise.
_CHECKOUT = PACKAGE_DIR.parent
_DEFAULT_DATA_DIR = _CHECKOUT / "var" if (_CHECKOUT / "pyproject.toml").exists() else Path.cwd() / "var"
DATA_DIR = env.path("VERN_DATA_DIR", _DEFAULT_DATA_DIR).resolve()
try:
    private_directory(DATA_DIR)  # 0700 when vern creates it: it holds the database and the keys
except OSError:
    pass  # the system check vern.E002 says that it cannot be written, in one line

DEBUG = env.boolean("DEBUG", False)
PORT = env.integer("PORT", 8000, minimum=1, maximum=65535)

# ---------------------------------------------------------------- identity and hosts
VERN_PUBLIC_URL = env.url("VERN_PUBLIC_URL", f"http://127.0.0.1:{PORT}", schemes=("https", "http")).rstrip("/")
_public = urlsplit(VERN_PUBLIC_URL)
if _public.path not in ("", "/") or _public.query or _public.fragment:
    raise ConfigError(f"VERN_PUBLIC_URL={VERN_PUBLIC_URL!r} must be only scheme and host, e.g. https://kaukus.no")
VERN_PUBLIC_HOST = _public.hostname or ""
HTTPS = _public.scheme == "https"

VERN_SITE_NAME = env.string("VERN_SITE_NAME", "Kaukus")
# The privacy declaration that `vern policy publish` and the first `vern run` publish.
VERN_DECLARATION = env.path("VERN_DECLARATION", PACKAGE_DIR / "declaration" / "default" / "kaukus.yaml")
# Set: the company keeps its declaration in a file (in git) and publishes it from there with
# `vern policy publish`; the console shows the file and edits nothing. Unset: the shipped
# declaration is only the first version, and the policy is edited in the console (ADR 0013).
VERN_DECLARATION_IN_FILE = env.is_set("VERN_DECLARATION")

ALLOWED_HOSTS = env.strings("ALLOWED_HOSTS", sorted({VERN_PUBLIC_HOST, "127.0.0.1", "localhost"}))
CSRF_TRUSTED_ORIGINS = [f"{_public.scheme}://{_public.netloc}"]
VERN_TRUST_PROXY_HEADERS = env.boolean("VERN_TRUST_PROXY_HEADERS", False)
if VERN_TRUST_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# ---------------------------------------------------------------- secrets


def _validate_secret_key(value: str) -> None:
    if len(value) < 50 or len(set(value)) < 5:
        raise ValueError("it must be at least 50 characters with at least 5 different ones")


def _validate_keyring(value: str) -> None:
    Keyring.parse(value)


def _validate_index_key(value: str) -> None:
    parse_index_key(value)


def _validate_index_keys(value: str) -> None:
    IndexKeys.parse(value)


# Generated secrets belong to the embedded SQLite database in the same data directory.
# With PostgreSQL (several servers, data that outlives any one machine) a secret made
# up on one machine would split the installation, so each must be set explicitly.
DATABASE_URL = env.string("DATABASE_URL", f"sqlite:///{DATA_DIR / 'vern.sqlite3'}")
_may_generate = DATABASE_URL.startswith("sqlite:")
# The erasure journal's own database (vern/rights/journal.py): empty means a SQLite file in
# the data directory; with several machines, a PostgreSQL database every worker reaches.
ERASURE_JOURNAL_URL = (
    env.url("ERASURE_JOURNAL_URL", "", schemes=("sqlite", "postgres", "postgresql"))
    if env.is_set("ERASURE_JOURNAL_URL")
    else ""
)
# Encrypted backups (vern/backups): written by `vern backup` and the worker's nightly job. Not
# created here: the directory is made 0700 when the first backup is written.
VERN_BACKUP_DIR = env.path("VERN_BACKUP_DIR", DATA_DIR / "backups").resolve()


def _secret(name: str, generate: Callable[[], str], validate: Callable[[str], None]) -> str:
    return env.secret(name, data_dir=DATA_DIR, generate=generate if _may_generate else None, validate=validate)


SECRET_KEY = _secret("SECRET_KEY", lambda: secrets.token_urlsafe(50), _validate_secret_key)
VERN_ENCRYPTION_KEYS = _secret("VERN_ENCRYPTION_KEYS", Keyring.generate_setting, _validate_keyring)
# The index keys as an id'd list like the encryption keys (the first writes, all look up), so that
# the index key can rotate (`vern keys rotate`); a single VERN_INDEX_KEY keeps working.
if env.is_set("VERN_INDEX_KEYS") or env.is_set("VERN_INDEX_KEYS_FILE"):
    VERN_INDEX_KEYS = env.secret("VERN_INDEX_KEYS", data_dir=DATA_DIR, generate=None, validate=_validate_index_keys)
    VERN_INDEX_KEY = ""
else:
    VERN_INDEX_KEYS = ""
    VERN_INDEX_KEY = _secret("VERN_INDEX_KEY", generate_key, _validate_index_key)

# ---------------------------------------------------------------- apps

INSTALLED_APPS = [
    "vern.ops",
    "vern.jobs",
    "vern.audit",
    "vern.mail",
    "vern.accounts",
    "vern.registry",
    "vern.declaration",
    "vern.consent",
    "vern.enquiries",
    "vern.analytics",
    "vern.newsletter",
    "vern.rights",
    "vern.retention",
    "vern.backups",
    "vern.keys",
    "vern.scanner",
    "vern.connectors",
    "vern.breaches",
    "vern.processors",
    "vern.site",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    # The second factor of staff login (docs/adr/0008-second-factor.md).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]
VERN_EXTRA_JOB_MODULES = env.strings("VERN_EXTRA_JOB_MODULES", [])

MIDDLEWARE = [
    "vern.site.middleware.head_without_body",
    # Compresses pages when no proxy in front does; Django 4.2+ pads compressed
    # responses against BREACH, and CSRF tokens are masked per response.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "vern.site.middleware.request_log",
    "vern.analytics.techlog.technical_log",
    # A view that fails because the database is down answers 503 with Retry-After, never 500
    # (a middleware below that fails so reaches the same answer through handler500).
    "vern.site.outage.database_outage",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # A sign-in its owner ended from another session is logged out here.
    "vern.accounts.middleware.ended_sign_ins",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After the CSP middleware, so that on the way out it can widen frame-src for an embed
    # the page shows, before the policy header is written.
    "vern.consent.middleware.consent",
    "vern.site.middleware.security_headers",
]

ROOT_URLCONF = "vern.urls"
WSGI_APPLICATION = "vern.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "vern.site.context.site",
                "vern.declaration.context.policy_notice",
                "vern.consent.context.consent",
            ],
        },
    },
    {
        # Plain text (email subjects and bodies): the same templates, never HTML-escaped, so
        # "O'Brien & Co" arrives as typed. Only vern.mail renders with it.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# ---------------------------------------------------------------- data

DATABASES = {"default": database_settings(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.string("REDIS_URL", "")
if REDIS_URL:
    # An unreachable Redis answers within two seconds, so a page fails fast instead of hanging.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # The database cache is shared by every process, so rate limits hold across
    # gunicorn workers and servers without another service to run.
    # Django's default of 300 entries would cull counters (login failures first, by key order)
    # whenever a flood from many networks filled the table; expired entries still go.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "vern_cache",
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }

# ---------------------------------------------------------------- mail

EMAIL_URL = env.url("EMAIL_URL", "console://", schemes=("smtp", "smtp+starttls", "smtps", "console"))
globals().update(email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = env.string("VERN_MAIL_FROM", f"vern <noreply@{VERN_PUBLIC_HOST or 'localhost'}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who hears of a new enquiry: these addresses, or else every active staff member with the
# sales role, each in their own language.
VERN_ENQUIRY_NOTIFY = env.emails("VERN_ENQUIRY_NOTIFY", [])
# The assignment rule: the staff account (by its email address) that every new enquiry from a
# form is given to. Set, only that person is told of new enquiries; unset, enquiries come in
# unassigned and VERN_ENQUIRY_NOTIFY or the sales role is told.
_owners = env.emails("VERN_ENQUIRY_OWNER", [])
if len(_owners) > 1:
    raise ConfigError("VERN_ENQUIRY_OWNER names one staff account, not several")
VERN_ENQUIRY_OWNER = _owners[0] if _owners else ""

# ---------------------------------------------------------------- the support mailbox (docs/mailbox.md)

# imaps://user@host[:port][/folder] (TLS from the start) or imap://… (STARTTLS, required); unset: no mailbox.
# The password comes from IMAP_PASSWORD or, better, a file named by IMAP_PASSWORD_FILE.
IMAP_URL = env.url("IMAP_URL", "", schemes=("imaps", "imap")) if env.string("IMAP_URL", "") else ""
if IMAP_URL and not urlsplit(IMAP_URL).username:
    raise ConfigError("IMAP_URL names no user; e.g. IMAP_URL=imaps://support%40example.com@imap.example.com")
IMAP_PASSWORD = env.secret("IMAP_PASSWORD", data_dir=DATA_DIR, generate=None) if IMAP_URL else ""
# A CA certificate file to trust for the IMAP server (a company CA); unset: the system's.
IMAP_CA_FILE = env.string("IMAP_CA_FILE", "")
# The folder vern moves what it has read into; what it read but did not take goes to "<folder>-skipped".
VERN_MAILBOX_FOLDER = env.string("VERN_MAILBOX_FOLDER", "vern")
# An attachment bigger than this is not kept (its name and size are); a message bigger than
# VERN_MAILBOX_MESSAGE_MAX_BYTES is not read at all and is left for a person in the skipped folder.
VERN_MAILBOX_ATTACHMENT_MAX_BYTES = env.integer("VERN_MAILBOX_ATTACHMENT_MAX_BYTES", 10_000_000, minimum=0)
VERN_MAILBOX_MESSAGE_MAX_BYTES = env.integer("VERN_MAILBOX_MESSAGE_MAX_BYTES", 30_000_000, minimum=1000)
# What lands in the skipped folder (bounces, automatic replies, loops, unreadable or too big mail)
# is deleted there this many days after it arrived (the server's INTERNALDATE), so that it is not
# kept for ever against the policy's §7; a person has that long to look at it.
VERN_MAILBOX_SKIPPED_DAYS = env.integer("VERN_MAILBOX_SKIPPED_DAYS", 30, minimum=1)

# ---------------------------------------------------------------- staff accounts

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The second factor. django-otp's own throttle counts failures per device from anywhere, so an
# attacker could hold the owner back; vern counts them per account and network instead
# (vern.accounts.throttle), as for passwords.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_TOTP_ISSUER = f"{VERN_SITE_NAME} staff"  # the name an authenticator app shows beside the code
SESSION_COOKIE_NAME = "vern_session"
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_NAME = "vern_csrf"
CSRF_COOKIE_AGE = None  # a session cookie: it is strictly necessary and ends with the browser session
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "vern.site.views.csrf_failure"
# Flash messages live in the (declared) staff session, not in an undeclared "messages" cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# ---------------------------------------------------------------- language and time

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", "Norsk bokmål"), ("en", "English")]
# English dates day first (6 Dec 2026), not Django's American 12/06/2026: vern/formats/en.
FORMAT_MODULE_PATH = ["vern.formats"]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Oslo"  # screens and deadlines; the database always stores UTC

# ---------------------------------------------------------------- static files

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "media"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# ---------------------------------------------------------------- security headers

SECURE_SSL_REDIRECT = HTTPS
SECURE_SSL_HOST = _public.netloc if HTTPS else None  # redirect plain HTTP to the public address, port included
SECURE_HSTS_SECONDS = 63072000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and env.boolean("VERN_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = HTTPS and env.boolean("VERN_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

_csp_directives: dict[str, list[str | object]] = {
    "default-src": [NONE],
    "script-src": [SELF, NONCE],
    "style-src": [SELF],
    "img-src": [SELF, "data:"],
    "font-src": [SELF],
    "connect-src": [SELF],
    "manifest-src": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
    "base-uri": [NONE],
    "object-src": [NONE],
}
if HTTPS:
    _csp_directives["upgrade-insecure-requests"] = []
CONTENT_SECURITY_POLICY = {"DIRECTIVES": _csp_directives}

# ---------------------------------------------------------------- background work

VERN_WORKER_POLL_SECONDS = env.integer("VERN_WORKER_POLL_SECONDS", 2, minimum=1, maximum=60)
VERN_WEB_WORKERS = env.integer("VERN_WEB_WORKERS", 3, minimum=1, maximum=64)
VERN_BIND = env.string("VERN_BIND", "127.0.0.1")

# ---------------------------------------------------------------- consent

# Cookie choices accepted per minute from one network (IPv4 /24, IPv6 /48), shared by every process.
VERN_CONSENT_RATE = env.integer("VERN_CONSENT_RATE", 60, minimum=1, maximum=1_000_000)

# ---------------------------------------------------------------- newsletter

# Subscription requests accepted per hour from one network (IPv4 /24, IPv6 /48), shared by every process.
VERN_NEWSLETTER_RATE = env.integer("VERN_NEWSLETTER_RATE", 20, minimum=1, maximum=1_000_000)
# A mailing goes out in batches of this many recipients, one batch every VERN_NEWSLETTER_BATCH_SECONDS.
VERN_NEWSLETTER_BATCH_SIZE = env.integer("VERN_NEWSLETTER_BATCH_SIZE", 200, minimum=1, maximum=10_000)
VERN_NEWSLETTER_BATCH_SECONDS = env.integer("VERN_NEWSLETTER_BATCH_SECONDS", 60, minimum=0, maximum=86_400)

# ---------------------------------------------------------------- analytics

# Beacon hits accepted per minute from one network (IPv4 /24, IPv6 /48), per web process.
VERN_ANALYTICS_RATE = env.integer("VERN_ANALYTICS_RATE", 120, minimum=1, maximum=1_000_000)
# Seconds between the bulk writes of buffered hits: what a SIGKILL could lose at most.
VERN_ANALYTICS_FLUSH_SECONDS = env.integer("VERN_ANALYTICS_FLUSH_SECONDS", 1, minimum=1, maximum=3600)
# Only for `make bench`: the naive design, one INSERT per hit, to compare the buffer with;
# and a bare endpoint that answers 204 without reading anything (the HTTP floor).
VERN_ANALYTICS_DIRECT_WRITES = env.boolean("VERN_ANALYTICS_DIRECT_WRITES", False)
VERN_BENCH_FLOOR = env.boolean("VERN_BENCH_FLOOR", False)

# ---------------------------------------------------------------- logging

VERN_LOG_LEVEL = env.string("VERN_LOG_LEVEL", "INFO").upper()
if VERN_LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR"):
    raise ConfigError(f"VERN_LOG_LEVEL={VERN_LOG_LEVEL!r} is not one of DEBUG, INFO, WARNING, ERROR")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # Redacts email addresses, phone numbers and full IP addresses from every
        # line, tracebacks included: a second line of defence behind code that
        # never logs them in the first place.
        "redacting": {
            "()": "vern.lib.logs.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "redacting"}},
    "root": {"handlers": ["stderr"], "level": VERN_LOG_LEVEL},
    "loggers": {
        "django.security.DisallowedHost": {"level": "ERROR"},
        # imapclient logs the IMAP conversation at DEBUG: the login, addresses and whole mails.
        "imapclient": {"level": "WARNING"},
    },
}
