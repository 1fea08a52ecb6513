"""Python baselines against hotpath's Python bridge, side by side in one run.

Each case runs in its own process (so its peak RSS is its own) with Debian's
/usr/bin/python3; the table prints wall time, peak RSS and the ratios.

    count_unique:       the seed's `len({s.strip() for s in data})` vs hotpath.count_unique(data, strip=True)
                        on the seed's 4 M items, and on 4 M items with 3 M distinct values; also the
                        former hand-over (items joined into one buffer by Python) beside today's
                        (Go reads the objects in place), median of interleaved rounds
    clients:            32 concurrent uploads from one process: hotpath.Client in 32 threads vs
                        hotpath.AsyncClient in 32 tasks, against one `hotpath serve`
    count_unique_file:  the seed's Python loop over a file (seed_uniq_lines.py) vs hotpath.count_unique_file
    thumbnail:          Pillow (draft + exif_transpose + LANCZOS thumbnail + save, as the baseline app)
                        vs hotpath.thumbnail, 800 px JPEG q80 from 12 MP JPEGs, 1 and 4 threads

Usage: bench.py --csv FILE --photos DIR [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PY = "/usr/bin/python3"


def dataset(kind: str):
    if kind == "seed":
        return ["item1", "item2", "item1", "item3"] * 1000000
    return [f" user-{i * 7919 % 3_000_017:08d}" for i in range(4_000_000)]


def case(name: str, args: list) -> dict:
    """Run one measurement in this process and return its seconds and answer."""
    sys.path.insert(0, str(REPO / "python"))
    if name in ("set", "count_unique", "count_unique_joined"):
        data = dataset(args[0])
        if name != "set":
            import hotpath

            hotpath.library_version()  # load libhotpath (once per process, ~10 ms) outside the timing
            hotpath.count_unique(["a", "b"])  # and probe the object layout
        t = time.perf_counter()
        if name == "set":
            got = len({s.strip() for s in data})
        elif name == "count_unique":
            got = hotpath.count_unique(data, strip=True)
        else:
            got = hotpath.uniq._count_str(data, True)  # the join hand-over, as before objects were read in place
        return {"seconds": time.perf_counter() - t, "answer": got}
    if name in ("client_sync", "client_async"):
        return upload_clients(name, args[0], args[1], int(args[2]))
    if name == "seed_lines":  # shared/baselines/seed_uniq_lines.py, timed in-process like hotpath
        t = time.perf_counter()
        data = set()
        for line in open(args[0]):
            data.add(line.strip())
        return {"seconds": time.perf_counter() - t, "answer": len(data)}
    if name == "count_unique_file":
        import hotpath

        hotpath.library_version()
        t = time.perf_counter()
        got = hotpath.count_unique_file(args[0]).count
        return {"seconds": time.perf_counter() - t, "answer": got}
    if name in ("pillow", "hotpath_thumb"):
        from concurrent.futures import ThreadPoolExecutor

        photos = [p.read_bytes() for p in sorted(Path(args[0]).glob("*.jpg"))]
        threads, rounds = int(args[1]), int(args[2])
        jobs = photos * rounds
        if name == "pillow":
            import io

            from PIL import Image, ImageOps

            def scale(raw: bytes) -> int:
                img = Image.open(io.BytesIO(raw))
                img.draft("RGB", (800, 800))
                img = ImageOps.exif_transpose(img)
                img.thumbnail((800, 800), Image.LANCZOS)
                buf = io.BytesIO()
                img.convert("RGB").save(buf, "JPEG", quality=80)
                return img.width
        else:
            import hotpath

            def scale(raw: bytes) -> int:
                return hotpath.transform(raw, 800, format="jpeg", quality=80).width

            scale(photos[0])  # load libhotpath and start libvips outside the timing, as Pillow's import is

        t = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            widths = list(pool.map(scale, jobs))
        return {"seconds": time.perf_counter() - t, "answer": f"{len(widths)} images, width {widths[0]}"}
    raise SystemExit(f"unknown case {name}")


def upload_clients(name: str, url: str, key: str, uploads: int) -> dict:
    """Upload one small JPEG `uploads` times, 32 at once, with the blocking or the asyncio client."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import hotpath

    sys.path.insert(0, str(REPO / "python" / "tests"))
    from support import make_jpeg

    photo = make_jpeg(640, 480)
    t = time.perf_counter()
    if name == "client_sync":
        c = hotpath.Client(url, key, retries=50, max_retry_wait=1)
        with ThreadPoolExecutor(32) as pool:
            done = sum(1 for img in pool.map(lambda _: c.upload(photo), range(uploads)) if img.id)
    else:
        async def run() -> int:
            async with hotpath.AsyncClient(url, key, retries=50, max_retry_wait=1, max_connections=32) as c:
                gate = asyncio.Semaphore(32)

                async def one() -> bool:
                    async with gate:
                        return bool((await c.upload(photo)).id)

                return sum(await asyncio.gather(*(one() for _ in range(uploads))))

        done = asyncio.run(run())
    return {"seconds": time.perf_counter() - t, "answer": f"{done} uploads"}


def median_of(rounds: int, base: "tuple[str, list]", hp: "tuple[str, list]") -> "tuple[dict, dict]":
    """Measure base and hp alternately, rounds times each, and return each one's median round."""
    bs, hs = [], []
    for _ in range(rounds):
        bs.append(measure(*base))
        hs.append(measure(*hp))
    pick = lambda ms: sorted(ms, key=lambda m: m["seconds"])[len(ms) // 2]  # noqa: E731
    return pick(bs), pick(hs)


def measure(name: str, args: list) -> dict:
    r = run_tracked([PY, __file__, "--case", name, *map(str, args)])
    doc = json.loads(r["out"])
    return {"seconds": doc["seconds"], "answer": doc["answer"], "rss": r["rss"]}


def run_tracked(cmd: list) -> dict:
    """Run cmd with its own peak RSS, measured by wait4 on exactly this child."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with {p.returncode}")
    return {"wall": time.perf_counter() - t, "rss": usage.ru_maxrss / 1024, "out": out.strip().splitlines()[-1]}


def row(table: list, what: str, base: dict, hp: dict) -> None:
    table.append((what, base, hp))
    if str(base["answer"]) != str(hp["answer"]):
        print(f"!! answers differ for {what}: {base['answer']} vs {hp['answer']}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", nargs="+")
    ap.add_argument("--csv")
    ap.add_argument("--photos")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--server", nargs=2, metavar=("URL", "KEY"), help="a running hotpath serve for the client rows")
    a = ap.parse_args()
    if a.case:
        print(json.dumps(case(a.case[0], a.case[1:])))
        return
    table: list = []
    rounds = max(1, a.rounds - 1)
    for kind in ("seed", "distinct"):
        label = "4 M items (seed: 3 distinct)" if kind == "seed" else "4 M items, 3 M distinct"
        base, hp = median_of(rounds, ("set", [kind]), ("count_unique", [kind]))
        row(table, f"count_unique, {label}", base, hp)
        base, joined = median_of(rounds, ("set", [kind]), ("count_unique_joined", [kind]))
        row(table, f"count_unique, {label}, former join hand-over", base, joined)
    if a.server:
        url, key = a.server
        base, hp = median_of(rounds, ("client_sync", [url, key, 256]), ("client_async", [url, key, 256]))
        row(table, "256 uploads of a 640×480 JPEG, 32 at once: Client (threads) vs AsyncClient (tasks)", base, hp)
    if a.csv:
        row(table, f"distinct lines of {Path(a.csv).name} ({os.path.getsize(a.csv) >> 20} MB)",
            measure("seed_lines", [a.csv]), measure("count_unique_file", [a.csv]))
    if a.photos:
        n = len(list(Path(a.photos).glob("*.jpg"))) * a.rounds
        for threads in (1, 4):
            row(table, f"{n} × 12 MP JPEG → 800 px JPEG, {threads} thread{'s' if threads > 1 else ''}",
                measure("pillow", [a.photos, threads, a.rounds]), measure("hotpath_thumb", [a.photos, threads, a.rounds]))
    print(f"\n| case | baseline s | hotpath s | speed-up | baseline peak RSS MB | hotpath peak RSS MB | RSS ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for what, b, h in table:
        print(f"| {what} | {b['seconds']:.3f} | {h['seconds']:.3f} | {b['seconds'] / h['seconds']:.1f}× "
              f"| {b['rss']:.0f} | {h['rss']:.0f} | {b['rss'] / h['rss']:.2f} |")
    print("\nBaselines: the seed's set comprehension (shared/baselines/seed_process_large_data.py), the seed's file loop "
          "(shared/baselines/seed_uniq_lines.py, timed in-process), Pillow as the baseline FastAPI app scales. "
          "Answers agree unless a '!!' line says otherwise.")


if __name__ == "__main__":
    main()
