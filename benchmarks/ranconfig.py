"""Benchmark the ranconfig engine on a 100 MB MOM.

The MOM is built at run time in a temporary folder: the real ERBS LTE node model
(../shared/data/mom/ericsson_mp_xml/ErbsNodeModelFull.xml, 330 classes) with its classes and
containment relationships replicated under new names (``EUtranCellFDD`` -> ``EUtranCellFDDR7``)
until the file is at least 100 MB. Each figure is measured in a fresh subprocess, ``--runs`` times (default 3); the median and
the minimum are printed with wall and CPU time and the machine's load average, so contention
on a shared machine can be told from the code's own cost:

* parse: wall time of ``io.read_mom`` (streaming, chunked) and the subprocess's peak RSS;
* generate: ``generate_package`` + writing the files (one module per group of up to 200
  classes of a containment subtree, see ``opsforge.engines.ranconfig.layout``);
* import: ``import <package>`` (lazy: no model module is loaded), then the models of the 330
  original classes (``--import-all``: of every class) resolved one by one.

Usage: ``.venv/bin/python benchmarks/ranconfig.py [--target-mb 100] [--runs 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ERBS = ROOT / ".." / "shared" / "data" / "mom" / "ericsson_mp_xml" / "ErbsNodeModelFull.xml"
_REF = re.compile(r'(<(?:class|hasClass|moRef|relationship) name=")([^"]+)(")')

PARSE = """
import json, resource, sys, time
from pathlib import Path
from opsforge.engines.ranconfig.io import read_mom
started, cpu = time.perf_counter(), time.process_time()
mom = read_mom(Path(sys.argv[1]))
parse_s, parse_cpu_s = time.perf_counter() - started, time.process_time() - cpu
num_attributes = sum(len(c.attributes) for c in mom.classes.values())
print(json.dumps({"parse_s": parse_s, "parse_cpu_s": parse_cpu_s, "num_classes": len(mom.classes),
                  "num_attributes": num_attributes,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

GENERATE = """
import importlib, json, re, sys, time
from pathlib import Path
from opsforge.engines.ranconfig.codegen import generate_package
from opsforge.engines.ranconfig.io import read_mom, write_package
mom = read_mom(Path(sys.argv[1]), keep_descriptions=True)
out = Path(sys.argv[2])
started, cpu = time.perf_counter(), time.process_time()
files = generate_package(mom, out.name)
generate_s = time.perf_counter() - started
write_package(files, out)
write_s = time.perf_counter() - started - generate_s
sys.path.insert(0, str(out.parent))
started = time.perf_counter()
pkg = importlib.import_module(out.name)
import_pkg_s = time.perf_counter() - started
total_cpu_s = time.process_time() - cpu
every = sys.argv[3] == "all"
names = [n for n in pkg.MO_CLASSES if every or not re.search(r"R\\d+$", n)]
started = time.perf_counter()
for name in names:
    pkg.model_for(name)
    pkg.model_for(name, writable=True)
import_models_s = time.perf_counter() - started
cell = pkg.model_for("EUtranCellFDDR3", writable=True)
ok = cell(qRxLevMin=-120).mom_values() == {"qRxLevMin": -120}
try:
    cell(qRxLevMin=-121)
    refused = False
except Exception:
    refused = True
print(json.dumps({"generate_s": generate_s, "write_s": write_s, "import_package_s": import_pkg_s,
                  "import_models_s": import_models_s, "total_cpu_s": total_cpu_s, "num_imported_classes": len(names),
                  "num_files": len(files),
                  "model_works": ok and refused}))
"""


def _rename(match: re.Match[str], classes: set[str], suffix: str) -> str:
    name = match.group(2)
    if name in classes or "_to_" in name:
        name += suffix
    return match.group(1) + name + match.group(3)


def build_mom(target_bytes: int, out: Path) -> int:
    """Write the replicated MOM to ``out``; return the number of copies."""
    text = ERBS.read_text(encoding="iso-8859-1")
    blocks = re.findall(
        r"<class name=.*?</class>|<relationship name=.*?</relationship>", text, re.S
    )
    classes = set(re.findall(r'<class name="([^"]+)"', text))
    body = "\n".join(blocks)
    end = text.rindex("</mim>")
    copies = 0
    with out.open("w", encoding="iso-8859-1") as handle:
        handle.write(text[:end])
        size = len(text)
        while size < target_bytes:
            copies += 1
            renamed = _REF.sub(partial(_rename, classes=classes, suffix=f"R{copies}"), body)
            handle.write(renamed)
            size += len(renamed)
        handle.write(text[end:])
    return copies


def _run(script: str, *args: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _spread(runs: list[dict[str, float]], key: str) -> str:
    values = [run[key] for run in runs]
    return f"median {statistics.median(values):.2f} s, min {min(values):.2f} s"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} (1/5 min) on {os.cpu_count()} CPUs"


def _parse_runs(mom_path: Path, num_runs: int) -> list[dict[str, float]]:
    runs = []
    for idx in range(num_runs):
        load = _load()
        parsed = _run(PARSE, str(mom_path))
        print(
            f"parse run {idx + 1}: {parsed['parse_s']:.2f} s wall "
            f"({parsed['parse_cpu_s']:.2f} s CPU), peak RSS {parsed['peak_rss_mb']:.0f} MB, "
            f"{parsed['num_classes']:.0f} classes, {parsed['num_attributes']:.0f} attributes "
            f"[{load}]"
        )
        runs.append(parsed)
    print(
        f"parse: wall {_spread(runs, 'parse_s')}; CPU {_spread(runs, 'parse_cpu_s')}; "
        f"peak RSS max {max(r['peak_rss_mb'] for r in runs):.0f} MB "
        "(targets: <= 10 s, <= 300 MB)"
    )
    return runs


def _generate_runs(
    mom_path: Path, tmp: Path, num_runs: int, import_all: bool
) -> list[dict[str, float]]:
    runs = []
    for idx in range(num_runs):
        load = _load()
        gen = _run(
            GENERATE,
            str(mom_path),
            str(tmp / f"bench_models_{idx + 1}"),
            "all" if import_all else "original",
        )
        gen["total_s"] = gen["generate_s"] + gen["write_s"] + gen["import_package_s"]
        print(
            f"generate run {idx + 1}: {gen['generate_s']:.2f} s ({gen['num_files']:.0f} files), "
            f"write: {gen['write_s']:.2f} s, import package: {gen['import_package_s'] * 1e3:.1f} ms"
            f" -> generate+write+import {gen['total_s']:.2f} s wall "
            f"({gen['total_cpu_s']:.2f} s CPU); import models of "
            f"{gen['num_imported_classes']:.0f} classes (x 2 models each): "
            f"{gen['import_models_s']:.2f} s; model refuses an off-step value: "
            f"{bool(gen['model_works'])} [{load}]"
        )
        runs.append(gen)
    print(
        f"generate+write+import: wall {_spread(runs, 'total_s')}; "
        f"CPU {_spread(runs, 'total_cpu_s')} (target <= 5 s); "
        f"import models of {runs[0]['num_imported_classes']:.0f} classes: "
        f"{_spread(runs, 'import_models_s')}"
    )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target-mb", type=float, default=100.0)
    parser.add_argument(
        "--tmp-dir", type=Path, default=None, help="where to build (default: the system temp)"
    )
    parser.add_argument(
        "--import-all", action="store_true", help="import every model, not only the 330 original"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement")
    args = parser.parse_args()
    if not ERBS.is_file():
        print(f"skipped: {ERBS} is absent")
        return
    with tempfile.TemporaryDirectory(dir=args.tmp_dir) as tmp:
        mom_path = Path(tmp) / "replicated_mom.xml"
        started = time.perf_counter()
        copies = build_mom(int(args.target_mb * 1e6), mom_path)
        size_mb = mom_path.stat().st_size / 1e6
        print(
            f"built {mom_path.name}: {size_mb:.1f} MB, ERBS + {copies} renamed copies "
            f"in {time.perf_counter() - started:.1f} s"
        )
        print(f"machine {_load()}; {args.runs} runs each, each in a fresh process")
        print(f"working folder: {tmp}")
        _parse_runs(mom_path, args.runs)
        _generate_runs(mom_path, Path(tmp), args.runs, args.import_all)
        print(f"machine {_load()} after")


if __name__ == "__main__":
    main()
