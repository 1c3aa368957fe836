"""`vern run` (what `make run` starts): a real multi-process web server and the worker together."""

from __future__ import annotations

import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from vern.jobs import services
from vern.jobs.models import Job
from vern.testing import free_port, start_vern, vern_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        return response.status, response.read().decode()


def test_vern_run_serves_both_languages_with_several_web_workers_and_runs_jobs(tmp_path):
    port = free_port()
    trace = tmp_path / "trace"
    job = services.job_enqueue("tests.record", payload={"path": str(trace), "token": "from-run"})
    process = start_vern("run", env=vern_env(PORT=str(port), VERN_WEB_WORKERS="2", VERN_WORKER_POLL_SECONDS="1"))
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Press Ctrl+C to stop." in line:
                break
        output = "".join(lines)
        assert f"vern is running at http://127.0.0.1:{port}/" in output
        assert "staff add --email you@example.com --role admin --role privacy_officer" in output
        assert "published the privacy declaration kaukus.yaml as version 1" in output

        status, norwegian = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200 and '<html lang="nb">' in norwegian
        status, english = fetch(f"http://127.0.0.1:{port}/en/")
        assert status == 200 and '<html lang="en">' in english
        status, policy = fetch(f"http://127.0.0.1:{port}/privacy/")
        assert status == 200 and "Kaukus AS er behandlingsansvarlig" in policy
        status, css = fetch(f"http://127.0.0.1:{port}/static/site/site.css")
        assert status == 200 and "--brand" in css

        wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.DONE, what="the worker to run the job")
        assert trace.read_text().startswith("from-run ")

        serve = [pid for pid in children_of(process.pid) if "serve" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert len(serve) == 1
        wait_for(lambda: len(children_of(serve[0])) == 2, what="gunicorn to run two web worker processes")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0


def test_the_first_account_command_that_run_prints_works_as_printed_in_a_fresh_shell(tmp_path):
    """Issue 21: the printed command once left out VERN_DATA_DIR and created an empty database elsewhere.

    The server runs on its own SQLite file in its own data directory; the printed
    line is then run by a shell that has neither variable set, as another terminal
    would be, and the account must appear in the server's database with both roles.
    """
    data_dir = tmp_path / "company data"
    port = free_port()
    env = vern_env(PORT=str(port), VERN_DATA_DIR=str(data_dir), VERN_WEB_WORKERS="1")
    del env["DATABASE_URL"]
    process = start_vern("run", env=env)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Press Ctrl+C to stop." in line:
                break
        printed = next(line.strip() for line in lines if "staff add --email" in line)
        fresh_shell = {key: value for key, value in env.items() if key not in ("VERN_DATA_DIR", "DATABASE_URL")}
        created = subprocess.run(
            ["/bin/sh", "-c", printed], env=fresh_shell, capture_output=True, text=True, timeout=60, check=False
        )
        assert created.returncode == 0, created.stderr
        assert "created staff account you@example.com (admin, privacy_officer)" in created.stdout

        listed = subprocess.run(
            ["/bin/sh", "-c", printed.split(" staff add ")[0] + " staff list"],
            env={**fresh_shell, "VERN_DATA_DIR": str(data_dir)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "you@example.com\tadmin,privacy_officer" in listed.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
