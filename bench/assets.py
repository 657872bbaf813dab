"""Asset size: each function's synthesized asset folder zipped, against its own folder alone.

The zip is built here with deflate, files in name order; the CDK CLI builds the uploaded zip
with its own archiver, so the byte count can differ slightly from the object in S3.
"""

import io
import zipfile
from pathlib import Path

from bench.figures import Figure, Goal
from bench.functions import BenchFunction

# An asset holds only the function's folder and shared/, a few dozen kilobytes of source; one near
# this budget has picked up something that should not ship.
GOAL = Goal(limit=64 * 1024, on_value=True, strict=True)


def zipped_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())
    return len(buffer.getvalue())


def measure(function: BenchFunction) -> Figure:
    return Figure(
        name=f"asset_{function.folder}",
        value=zipped_size(function.code_root),
        baseline=zipped_size(function.code_root / function.folder),
        unit="bytes",
        goal=GOAL,
    )
