"""``vern serve``: the production web server (gunicorn, several workers), not runserver."""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from vern.lib.logs import RedactingFormatter


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from vern.wsgi import application, warm

        warm()  # in the master, before the workers fork (preload_app): each starts with it
        # Everything loaded so far lives as long as the process. Frozen, the garbage collector
        # never walks it again: a full collection in a worker then looks at what requests made,
        # not at 240,000 objects of Django and vern (a pause of 60-250 ms that stopped every
        # thread of the worker, a few µs per beacon on average), and the pages the workers share
        # with the master after the fork stay shared (the ``gc.freeze`` advice of Python's docs).
        gc.collect()
        gc.freeze()
        return application


class _ServerLineFormatter(RedactingFormatter):
    """Redacts gunicorn's lines, but for the address it listens on, which is the server's own."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        if str(record.msg).startswith("Listening at"):
            return logging.Formatter.formatMessage(self, record)
        return super().formatMessage(record)


class _RedactingLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's own log lines ("Invalid request from ip=…") go through vern's redaction too:
    a full IP address is shortened to its network, as in every other line vern writes."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(_ServerLineFormatter(self.error_fmt, self.datefmt))


def _worker_exit(server: Any, worker: Any) -> None:
    """Write the analytics hits a worker still holds before it ends (a graceful stop loses none)."""
    from vern.analytics.buffer import BUFFER

    BUFFER.close()


def ensure_database_ready() -> None:
    """Fail with one line when the database is unreachable or not migrated."""
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError("the database is not migrated to this version of vern; run `vern migrate` first")
    connection.close()


class Command(BaseCommand):
    help = "Serve vern over HTTP with gunicorn (VERN_BIND, PORT, VERN_WEB_WORKERS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=None, help="host:port (default VERN_BIND:PORT)")
        parser.add_argument("--workers", type=int, default=None)
        parser.add_argument("--certfile", help="serve HTTPS with this certificate (PEM), without a proxy in front")
        parser.add_argument("--keyfile", help="the certificate's private key (PEM)")

    def handle(
        self,
        *args: Any,
        bind: str | None,
        workers: int | None,
        certfile: str | None,
        keyfile: str | None,
        **options: Any,
    ) -> None:
        if bool(certfile) != bool(keyfile):
            raise CommandError("give both --certfile and --keyfile, or neither")
        ensure_database_ready()
        # Hashed static file names are built here, so a forgotten collectstatic cannot break pages.
        call_command("collectstatic", interactive=False, verbosity=0)
        options_ = {
            "bind": bind or f"{settings.VERN_BIND}:{settings.PORT}",
            "workers": workers or settings.VERN_WEB_WORKERS,
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 30,
            "graceful_timeout": 20,
            "preload_app": True,
            # Requests are logged by vern's own middleware, without IP addresses.
            "accesslog": None,
            "errorlog": "-",
            "logger_class": _RedactingLogger,
            "proc_name": "vern-web",
            # gunicorn's runtime control socket is not used, and its default path in
            # the home directory would clash between several vern servers on one host.
            "control_socket_disable": True,
            "worker_exit": _worker_exit,
        }
        # gunicorn's worker heartbeat files belong in memory, not on a disk that may stall.
        if certfile and keyfile:
            options_.update(certfile=certfile, keyfile=keyfile)
        if os.path.isdir("/dev/shm"):  # noqa: S108
            options_["worker_tmp_dir"] = "/dev/shm"  # noqa: S108
        _Server(options_).run()
