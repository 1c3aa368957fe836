"""What the analytics and retention benches share: scratch databases, a real ``vern serve``, wrk.

Each bench runs vern as an operator would: ``vern migrate``, ``vern policy publish``,
then the production server (``vern serve``: gunicorn, gthread workers) in a child
process with its own environment. Work that needs Django (loading rows, timing a
sweep) runs in a child process too (``inner``), so that one bench can use SQLite
and PostgreSQL in the same run. Nothing here uses /work/shared or a registry.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vern.testing import free_port

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "vern/declaration/default/kaukus.yaml"  # the declaration vern ships
sys.path.insert(0, str(ROOT))
# The PostgreSQL server the scratch databases are made on (trust auth, as .ci/run uses).
PG_SERVER = os.environ.get("VERN_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
WRK = shutil.which("wrk") or "/usr/bin/wrk"
RESULT = "BENCH-RESULT "

# Technical-log rows made inside PostgreSQL, ``n`` of them ``step`` microseconds apart from
# ``start``, in a mix of kinds, routes, shortened IPs and browsers; ``{table}`` is the target
# (a day partition). The retention and rights benches load with it.
PG_LOG_ROWS = """
INSERT INTO {table} (at, kind, status, method, route, ip, browser, detail)
SELECT %(start)s::timestamptz + ((g - 1)::bigint * %(step)s::bigint) * interval '1 microsecond',
       (ARRAY['error', 'login', 'rate', 'denied', 'rate'])[1 + g %% 5],
       (ARRAY[500, 0, 429, 403, 429])[1 + g %% 5],
       CASE WHEN g %% 3 = 0 THEN 'POST' ELSE 'GET' END,
       (ARRAY['staff/login/', 'api/analytics/event', 'contact/', 'staff/enquiries/<int:pk>/',
              'api/consent/'])[1 + g %% 5],
       ((g::bigint * 7919) %% 223 + 1) || '.' || ((g::bigint * 104729) %% 256) || '.' || ((g / 13) %% 256) || '.0',
       (ARRAY['Chrome', 'Firefox', 'Safari', 'Edge', ''])[1 + (g / 7) %% 5],
       CASE WHEN g %% 5 = 1 THEN 'wrong_password' ELSE '' END
FROM generate_series(1, %(n)s) AS g
"""


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISSED"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def _cpu_ticks() -> dict[int, tuple[str, int, int]]:
    """pid -> (name, parent pid, user + system clock ticks) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (name, int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


def _mine(table: dict[int, tuple[str, int, int]]) -> set[int]:
    """This process and its descendants (the servers, wrk, the inner Django processes)."""
    mine = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, (_, parent, _) in table.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                grew = True
    return mine


class OtherLoad:
    """CPU used by processes that are not this bench's (nor PostgreSQL's), while the block ran, in CPUs."""

    def __enter__(self) -> OtherLoad:
        self._before = _cpu_ticks()
        self._started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        after = _cpu_ticks()
        elapsed = max(time.monotonic() - self._started, 1e-6)
        mine = _mine(after) | _mine(self._before)
        hz = os.sysconf("SC_CLK_TCK")
        per: dict[str, float] = {}
        for pid, (name, _, total) in after.items():
            if pid in mine or name.startswith("postgres"):
                continue
            used = (total - self._before[pid][2]) if pid in self._before else 0
            if used > 0:
                per[name] = per.get(name, 0.0) + used / hz / elapsed
        self.cpus = sum(per.values())
        self.top = sorted(per.items(), key=lambda item: -item[1])[:3]

    def describe(self) -> str:
        names = ", ".join(f"{name} {share:.0%}" for name, share in self.top if share >= 0.05)
        return f"{self.cpus:.2f} CPU" + (f" ({names})" if names else "")


def busy_processes(threshold: float = 0.2, sample: float = 1.0) -> list[str]:
    """Other processes using more than ``threshold`` of a CPU right now (they skew the figures)."""
    before = _cpu_ticks()
    time.sleep(sample)
    after = _cpu_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    mine = _mine(after)
    busy = []
    for pid, (name, _, total) in after.items():
        if pid in before and pid not in mine:
            share = (total - before[pid][2]) / hz / sample
            if share >= threshold:
                busy.append(f"{name} (pid {pid}, {share:.0%})")
    return busy


# -- databases ------------------------------------------------------------------------------


def pg_connect(database: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/{database}", autocommit=True, connect_timeout=5)


def pg_available() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        with pg_connect() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


def pg_create(name: str) -> None:
    assert re.fullmatch(r"[a-z_][a-z0-9_]*", name)
    with pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_drop(name: str) -> None:
    assert re.fullmatch(r"[a-z_][a-z0-9_]*", name)
    with pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Backend:
    """One scratch database (SQLite in a temporary folder, or a fresh PostgreSQL database) and its environment."""

    def __init__(self, kind: str, folder: Path, pg_name: str) -> None:
        self.kind = kind
        self.folder = folder
        self.data_dir = folder / f"data-{kind}"
        self.pg_name = pg_name
        self.label = "PostgreSQL" if kind == "pg" else "SQLite"

    def __enter__(self) -> Backend:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.kind == "pg":
            pg_create(self.pg_name)
        self._keys = {}
        if self.kind == "pg":
            from vern.lib.crypto import Keyring, generate_key

            # vern never makes up keys for PostgreSQL; fresh ones for this scratch database only.
            self._keys = {
                "SECRET_KEY": secrets.token_urlsafe(50),
                "VERN_ENCRYPTION_KEYS": Keyring.generate_setting(),
                "VERN_INDEX_KEY": generate_key(),
            }
        return self

    def __exit__(self, *exc: object) -> None:
        if self.kind == "pg":
            pg_drop(self.pg_name)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("VERN_") and k not in ("DATABASE_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "vern.settings",
                "VERN_DATA_DIR": str(self.data_dir),
                "VERN_LOG_LEVEL": "WARNING",
                "EMAIL_URL": "console://",
                "PYTHONUNBUFFERED": "1",
                **self._keys,
            }
        )
        if self.kind == "pg":
            env["DATABASE_URL"] = f"{PG_SERVER}/{self.pg_name}"
        env.update(extra)
        return env

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "vern.sqlite3"

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """A read from outside vern: psycopg or sqlite3 straight to the database."""
        if self.kind == "pg":
            with pg_connect(self.pg_name) as conn:
                return list(conn.execute(sql).fetchall())
        with sqlite3.connect(self.sqlite_path, timeout=60) as conn:
            return list(conn.execute(sql).fetchall())

    def execute(self, sql: str) -> None:
        if self.kind == "pg":
            with pg_connect(self.pg_name) as conn:
                conn.execute(sql)
            return
        with sqlite3.connect(self.sqlite_path, timeout=60) as conn:
            conn.execute(sql)

    def prepare(self) -> None:
        """What an operator does first: migrate, and publish the declaration (as ``vern run`` does)."""
        vern(self.env(), "migrate", "-v0")
        vern(self.env(), "policy", "publish", "--file", str(SHIPPED), "--note", "bench")


def vern(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "vern", *args], env=env, cwd=ROOT, capture_output=True, text=True, input=stdin
    )
    if done.returncode:
        raise RuntimeError(f"vern {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def inner(script: str, env: dict[str, str], task: str, timeout: float | None = None, **kwargs: Any) -> dict[str, Any]:
    """Run ``script --inner task`` with ``env`` (Django set up there); returns what it reported."""
    done = subprocess.run(
        [sys.executable, script, "--inner", task, json.dumps(kwargs)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT):
            return dict(json.loads(line[len(RESULT) :]))
    raise RuntimeError(f"{task} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def run(main: Callable[[], int], tasks: dict[str, Callable[..., dict[str, Any]]]) -> None:
    """A bench script's entry: ``main()``, or one ``--inner TASK JSON`` step in a child process."""
    if len(sys.argv) == 4 and sys.argv[1] == "--inner":
        setup_django()
        report(tasks[sys.argv[2]](**json.loads(sys.argv[3])))
        sys.exit(0)
    sys.exit(main())


def report(result: dict[str, Any]) -> None:
    """The inner side's answer to ``inner``."""
    print(RESULT + json.dumps(result, default=str), flush=True)


def setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vern.settings")
    django.setup()


# -- the server -----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    """``vern serve`` (gunicorn, gthread) in a child process; ``stop`` sends SIGTERM and waits, as an operator would."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.workers = workers
        self._env = {**env, "PORT": str(self.port), "VERN_WEB_WORKERS": str(workers)}
        self.peak_total_kb = 0
        self.peak_worker_kb = 0
        self._sampling = False
        self._stopping = False

    def __enter__(self) -> Server:
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_serve.py"))],
            env=self._env,
            cwd=ROOT,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vern serve stopped at start; see {self.log}:\n{self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200 and len(_children(self.process.pid)) >= self.workers:
                        break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError(f"vern serve did not answer within 60 s; see {self.log}")
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _sample(self) -> None:
        while self._sampling and self.process.poll() is None:
            pids = [self.process.pid, *_children(self.process.pid)]
            sizes = [_rss_kb(pid) for pid in pids]
            self.peak_total_kb = max(self.peak_total_kb, sum(sizes))
            self.peak_worker_kb = max([self.peak_worker_kb, *(_rss_kb(p, "VmHWM") for p in pids[1:])])
            time.sleep(0.25)

    def stopped_from_outside(self) -> bool:
        """Whether the server stopped (or was told to) before this bench stopped it."""
        return not self._stopping and (
            self.process.poll() is not None or "Handling signal: term" in self.log.read_text()
        )

    def stop(self) -> int:
        """SIGTERM, as ``systemctl stop`` would send: gunicorn stops gracefully and each worker writes its buffer."""
        self._stopping = True
        self._sampling = False
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()
        return int(self.process.returncode)

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.stop()

    def errors(self) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if " ERROR " in line or "Traceback" in line or "[CRITICAL]" in line]


# -- wrk ------------------------------------------------------------------------------------

WRK_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f,"mean":%.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def wrk_missing() -> str | None:
    if Path(WRK).exists():
        return None
    return "wrk is not installed (Debian: apt-get install -y wrk)"


def wrk(url: str, script: Path, *, connections: int, threads: int, seconds: float, args: list[str]) -> dict[str, Any]:
    """One wrk run (closed loop: each connection sends its next request when the answer came)."""
    command = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
        "--",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"^WRKJSON (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode or not match:
        raise RuntimeError(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    result = dict(json.loads(match.group(1)))
    result["seconds"] = result["duration_us"] / 1e6
    result["ok"] = result["requests"] - result["status_errors"]
    result["rate"] = result["requests"] / result["seconds"]
    result["ok_rate"] = result["ok"] / result["seconds"]
    result["socket_errors"] = result["connect"] + result["read"] + result["write"] + result["timeout"]
    result["command"] = " ".join(command)
    return result


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary folder for data and server logs; kept (and named) when VERN_BENCH_KEEP=1."""
    if os.environ.get("VERN_BENCH_KEEP") == "1":
        folder = Path(tempfile.mkdtemp(prefix=prefix))
        print(f"(keeping the scratch folder {folder})")
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value
