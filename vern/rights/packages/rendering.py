"""The packages as files: a zip of JSON, a CSV per model and, for access, a readable page.

The cells of the CSV files go through the guard every CSV export shares (``vern.lib.csvsafe``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation

from vern.lib import csvsafe
from vern.lib.days import OSLO
from vern.rights.models import Request
from vern.rights.packages.contents import access_data, portability_data
from vern.rights.packages.records import Block


def _cell(value: Any) -> Any:
    """Lists and dicts as JSON; the writer then guards every cell (formulas, bidi controls)."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _csv(block: Block, columns: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\r\n")
    columns = columns or block.columns
    writer.writerow(columns)
    for row in block.rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _zip(files: list[tuple[str, str]], moment: dt.datetime) -> bytes:
    local = moment.astimezone(OSLO)
    stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content.encode("utf-8"))
    return buffer.getvalue()


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _local(iso: str | None) -> str:
    if not iso:
        return ""
    return dt.datetime.fromisoformat(iso).astimezone(OSLO).strftime("%Y-%m-%d %H:%M")


def access_package(request: Request) -> bytes:
    """The copy of the person's data (Art. 15): ``data.json``, a CSV per model, and ``index.html``."""
    data, blocks = access_data(request)
    language = data["confirmation"]["language"]
    with translation.override(language):
        page = render_to_string(
            "rights/package/index.html",
            {
                "data": data,
                "blocks": blocks,
                "audit": [{**row, "at": _local(row["at"])} for row in data["audit"]],
                "language": language,
                "generated": timezone.now().astimezone(OSLO).strftime("%Y-%m-%d %H:%M"),
            },
        )
    files = [("index.html", page), ("data.json", _json(data))]
    files += [(block.csv_name, _csv(block)) for block in blocks]
    return _zip(files, timezone.now())


def portability_package(request: Request) -> bytes:
    """The person's provided data in a machine-readable format: ``portability.json`` and a CSV per model."""
    data, blocks = portability_data(request)
    files = [("portability.json", _json(data))]
    files += [(block.csv_name, _csv(block, block.fields)) for block in blocks]
    return _zip(files, timezone.now())
