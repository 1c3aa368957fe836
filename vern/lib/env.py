"""One typed reader for the environment.

Every setting that an operator can change is read here, strictly: a value that
does not parse stops start-up with one line that names the variable, what was
wrong and an example of a good value. Secret values are never echoed back.

Secrets (``SECRET_KEY``, ``VERN_ENCRYPTION_KEYS``, ``VERN_INDEX_KEY``) may come
from the variable itself, from a file named by ``<NAME>_FILE`` (Docker and
systemd credentials), or, when neither is set, from a file in the data
directory that is generated on first run with mode 0600. The generated file is
meant for development and single-machine installs; it is never committed
because ``var/`` is ignored.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from vern.lib.private import private_directory

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ImproperlyConfigured):
    """A setting from the environment is malformed; the message is one line."""


def _show(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


class Env:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        return None if value is None else value.strip()

    def is_set(self, name: str) -> bool:
        return self._raw(name) not in (None, "")

    def string(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value in (None, "") else value  # type: ignore[return-value]

    def boolean(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{name}={_show(value)} is not a yes/no value; use {name}=true or {name}=false")

    def integer(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._raw(name)
        if value in (None, ""):
            return default
        assert value is not None
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name}={_show(value)} is not a whole number; e.g. {name}={default}") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name}={number} is below the smallest allowed value {minimum}")
        if maximum is not None and number > maximum:
            raise ConfigError(f"{name}={number} is above the largest allowed value {maximum}")
        return number

    def strings(self, name: str, default: list[str]) -> list[str]:
        value = self._raw(name)
        if value in (None, ""):
            return list(default)
        assert value is not None
        items = [item.strip() for item in value.split(",")]
        if any(not item for item in items):
            raise ConfigError(f"{name}={_show(value)} has an empty item; separate items with single commas")
        return items

    def emails(self, name: str, default: list[str]) -> list[str]:
        """Comma-separated email addresses, normalised; an error names the item, never the address."""
        from vern.lib.normalise import InvalidIdentifier, normalise_email

        found = []
        for number, item in enumerate(self.strings(name, default), start=1):
            try:
                found.append(normalise_email(item))
            except InvalidIdentifier as exc:
                raise ConfigError(f"{name}: item {number} is not a usable email address ({exc})") from None
        return found

    def url(self, name: str, default: str, *, schemes: tuple[str, ...]) -> str:
        value = self.string(name, default)
        parts = urlsplit(value)
        if parts.scheme not in schemes:
            wanted = ", ".join(f"{s}://" for s in schemes)
            raise ConfigError(f"{name}={_show(value)} must start with one of {wanted}")
        if not parts.netloc and parts.scheme not in ("sqlite", "console"):
            raise ConfigError(f"{name}={_show(value)} has no host; e.g. {name}={schemes[0]}://example.com")
        return value

    def path(self, name: str, default: Path) -> Path:
        value = self._raw(name)
        return default if value in (None, "") else Path(value).expanduser()  # type: ignore[arg-type]

    def secret(
        self,
        name: str,
        *,
        data_dir: Path,
        generate: Callable[[], str] | None,
        validate: Callable[[str], None] | None = None,
    ) -> str:
        """Read a secret from NAME, NAME_FILE, or a file in the data directory generated on first run.

        With ``generate=None`` the secret must be given; a missing one is an error.
        """
        direct = self._raw(name)
        file_name = self._raw(f"{name}_FILE")
        if direct and file_name:
            raise ConfigError(f"{name} and {name}_FILE are both set; keep only one")
        if direct:
            value = direct
        elif file_name:
            try:
                value = Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE={_show(file_name)} cannot be read: {exc.strerror}") from None
            if not value:
                raise ConfigError(f"{name}_FILE={_show(file_name)} is empty")
        elif generate is None:
            raise ConfigError(
                f"{name} is not set; with PostgreSQL set it (or {name}_FILE) to the same value on every server"
            )
        else:
            value = _read_or_create_secret_file(data_dir / name.lower(), name, generate)
        if validate is not None:
            try:
                validate(value)
            except ValueError as exc:
                raise ConfigError(f"{name} is not valid: {exc}") from None
        return value


def _read_or_create_secret_file(path: Path, name: str, generate: Callable[[], str]) -> str:
    if not path.exists():
        try:
            private_directory(path.parent)
            scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
            fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(generate() + "\n")
            try:
                # link() is atomic and refuses to overwrite: when several processes start
                # at once, exactly one file wins and every process reads that one.
                os.link(scratch, path)
            except FileExistsError:
                pass
            finally:
                scratch.unlink()
        except OSError as exc:
            raise ConfigError(
                f"{name} is not set and {path} cannot be created ({exc.strerror}); set {name} or {name}_FILE"
            ) from None
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{name} is not set and {path} cannot be read ({exc.strerror})") from None
    if not value:
        raise ConfigError(f"{path} is empty; delete it to generate a new {name}, or set {name}")
    return value
