"""An export streams: exporting a 64 MiB file (to a ZIP file, and as a sealed job artifact)
raises the process's peak memory by far less than the file's size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FILE_MIB = 64

CHILD = """
import io, json, os, resource, sys
from strongroom import init_home, open_strongroom

class Random(io.RawIOBase):
    def __init__(self, size):
        self.left = size
    def readable(self):
        return True
    def readinto(self, buffer):
        n = min(len(buffer), self.left, 1 << 20)
        buffer[:n] = os.urandom(n)
        self.left -= n
        return n

def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

home, out, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
init_home(home)
with open_strongroom(home) as sr:
    ws = sr.workspaces.create("Big", "owner@big.example")
    project = sr.projects.create(ws.id, "Files")
    sr.records.put_many(ws.id, project.id, "notes", [{"n": i} for i in range(2000)])
    sr.exports.write(ws.id, out + ".warm-up")  # imports and caches, before the big file
    os.unlink(out + ".warm-up")
    sr.files.put(ws.id, project.id, "big.bin", io.BufferedReader(Random(size)))
    before = peak_mib()
    summary = sr.exports.write(ws.id, out)
    job = sr.exports.run_job(sr.exports.create_job(ws.id).id)
    after = peak_mib()
print(json.dumps({"before": before, "after": after, "size": summary.size, "job": job.state}))
"""


def test_export_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    size = FILE_MIB * 1024 * 1024
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "home"), str(tmp_path / "out.zip"), str(size)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["size"] > size and report["job"] == "done"
    growth = report["after"] - report["before"]
    assert growth < FILE_MIB / 4, report
