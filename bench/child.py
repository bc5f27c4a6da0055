"""The measured child process of file_peak_rss_mb (kept free of bench/rich imports so
both modes pay only for Strongroom itself).

    python -m bench.child open HOME
    python -m bench.child put-get HOME WORKSPACE_ID PROJECT_ID SOURCE DESTINATION
    python -m bench.child export HOME WORKSPACE_ID DESTINATION
"""

from __future__ import annotations

import sys
from pathlib import Path

from strongroom.bootstrap import open_strongroom


def main(argv: list[str]) -> int:
    mode, home, *rest = argv
    with open_strongroom(home) as sr:
        if mode == "open":
            return 0
        if mode == "export":
            workspace_id, destination = rest
            sr.exports.write(workspace_id, destination)
            Path(destination).unlink()
            return 0
        if mode != "put-get":
            raise SystemExit(f"unknown mode {mode!r}")
        workspace_id, project_id, source, destination = rest
        with open(source, "rb") as f:
            stored = sr.files.put(workspace_id, project_id, "source.bin", f)
        sr.files.get_to_path(workspace_id, project_id, stored.id, Path(destination))
        sr.ctx.blobs.delete(stored.id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
