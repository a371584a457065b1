"""What importing task modules in a throw-away process first (``vetting``) costs.

Usage::

    .venv/bin/python bench/import_guard.py [--modules 50] [--tasks 4] [--repeat 5]

Loads a folder of ``--modules`` modules (``--tasks`` function tasks each, plus a helper
they all import) with ``load_folder``, with and without vetting, and times a one-module
reload pass (what a save costs before the watcher's debounce). Medians of ``--repeat``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_sched.reload import Reloader, ReloadSettings, load_folder, vetting


def make_folder(root: Path, modules: int, tasks: int) -> Path:
    folder = root / "tasks"
    folder.mkdir(mode=0o755)
    (folder / "shared.py").write_text("import json, datetime\nLIMIT = 10\n")
    for m in range(modules):
        body = ["import shared", "from tui_sched import App", "", "app = App()", ""]
        for t in range(tasks):
            body += [f'@app.task("every {t + 10} seconds ", execution="process")',
                     f"def task_{m}_{t}():", "    return shared.LIMIT", ""]
        (folder / f"mod_{m:03d}.py").write_text("\n".join(body))
    for f in folder.iterdir():
        f.chmod(0o644)
    return folder


def ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--modules", type=int, default=50)
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder(Path(tmp), args.modules, args.tasks)
        results: dict[str, list[float]] = {"vetted": [], "unvetted": []}
        for _ in range(args.repeat):
            for label, vet in (("vetted", True), ("unvetted", False)):
                t0 = time.perf_counter()
                report = load_folder(folder, vet_first=vet)
                results[label].append(time.perf_counter() - t0)
                assert not report.errors, report.errors
        reloads: dict[str, list[float]] = {"cold child": [], "spare child": []}
        reloader = Reloader(folder, settings=ReloadSettings(watch=False))
        reloader.build()
        target = folder / "mod_000.py"
        i = 0
        for label in reloads:
            if label == "spare child":
                vetting.hold_spare()  # as a watching Reloader does
                reloader.reload([target])  # starts the first spare
            for _ in range(args.repeat):
                time.sleep(1.0)  # saves come seconds apart: the spare has started by then
                i += 1
                text = target.read_text()
                target.write_text(text.replace(f"every {9 + i} ", f"every {10 + i} "))
                t0 = time.perf_counter()
                assert reloader.reload([target]) > 0
                reloads[label].append(time.perf_counter() - t0)
        vetting.release_spare()
    n = args.modules * args.tasks
    print(f"load_folder, {args.modules} modules / {n} tasks:")
    for label, samples in results.items():
        print(f"  {label:<9} {ms(samples)}")
    extra = statistics.median(results["vetted"]) - statistics.median(results["unvetted"])
    print(f"  vetting costs {extra * 1000:.1f} ms at start-up")
    for label, samples in reloads.items():
        print(f"one-module reload pass, {label:<11} {ms(samples)}")


if __name__ == "__main__":
    main()
