"""How fast a backup is sealed and verified, and that its memory does not grow with the database.

Run by ``make bench`` (``--mib N`` for another size; default 1024). A stream of N MiB (the
size of a large vern database) is sealed with the backup format (``vern.lib.sealed``,
AES-256-GCM in 1 MiB chunks) into a file in a temporary folder, then read back, decrypted
and verified chunk by chunk as ``vern restore`` does before touching anything.

Targets (issue 15): the process's peak memory stays under 100 MiB whatever the size (the
database is streamed, never held), and sealing keeps up with a disk (at least 50 MiB/s).
Figures are printed as measured; a target that is not met says MISSED.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _harness as h

from vern.lib import sealed

TARGET_PEAK_MIB = 100.0
TARGET_SEAL_MIB_S = 50.0


class Pattern(io.RawIOBase):
    """N bytes of a repeating pattern, produced as they are read (nothing held in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = b"vern-backup-bench" * (n // 17) + b"v" * (n % 17)
        self.left -= n
        return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    size = parser.parse_args().mib * 1024 * 1024
    key = os.urandom(32)
    print(f"backup format: {size >> 20} MiB on {h.machine()}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.vbak"
        started = time.perf_counter()
        with path.open("wb") as out:
            sealed.seal(io.BufferedReader(Pattern(size), 1 << 20), out, manifest={}, key_id="k", root_key=key)
            out.flush()
            os.fsync(out.fileno())
        seal_s = time.perf_counter() - started
        started = time.perf_counter()
        with path.open("rb") as stream:
            sealed.unseal(stream, lambda block: None, key_for=lambda key_id: key)
        open_s = time.perf_counter() - started
        overhead = path.stat().st_size - size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seal_rate = size / 2**20 / seal_s
    sealed_ok = h.verdict(seal_rate >= TARGET_SEAL_MIB_S)
    print(f"  seal (with fsync)      {seal_s:6.2f} s  {seal_rate:7.0f} MiB/s  {sealed_ok}")
    print(f"  decrypt and verify     {open_s:6.2f} s  {size / 2**20 / open_s:7.0f} MiB/s")
    print(f"  file overhead          {overhead} bytes (manifest, tags, trailer)")
    memory_ok = h.verdict(peak < TARGET_PEAK_MIB)
    print(f"  peak memory            {peak:6.0f} MiB (target < {TARGET_PEAK_MIB:.0f})  {memory_ok}")


if __name__ == "__main__":
    main()
