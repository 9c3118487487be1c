"""Keypress-to-render latency of the MC console: quiet, then under a 2,000 votes/s storm, in the same run.

    .venv/bin/python bench/console.py [--samples 200] [--rate 2000]

The console runs headless (Textual's test driver, 120x40) on a database with a
poll open. Each sample sends one key event through the driver, as a terminal
would, and times it until the screen has refreshed with its effect
(`call_after_refresh` once the effect is visible in the app). Two keys are
measured: `m` on the voting screen (re-renders names, bars and turnout) and a
character typed into the ad-hoc prompt field on the show screen. Keys are
spaced 20-60 ms apart like fast typing. The baseline is the same app with no
storm; the storm is a separate process writing votes in 50 ms batches through
the store, as the hub's writer does. Writes bench/results/console.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual.widgets import Input  # noqa: E402

from finale.demo import DEMO_EVENT  # noqa: E402
from finale.store import Store  # noqa: E402
from finale.tui.app import FinaleApp, create_app  # noqa: E402
from tests.tui_support import T0, build_show  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGET_MS = 100.0


async def _rendered(app: FinaleApp) -> float:
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    app.call_after_refresh(lambda: done.done() or done.set_result(time.perf_counter()))
    return await done


async def _one_key(app: FinaleApp, key: str, char: str | None, applied: object) -> float:
    """Send one key as the terminal driver would; ms until its effect is on the refreshed screen."""
    assert app._driver is not None
    t0 = time.perf_counter()
    app._driver.send_message(events.Key(key, char))
    while not applied():  # type: ignore[operator]
        await asyncio.sleep(0)
    return (await _rendered(app) - t0) * 1000.0


async def sample(app: FinaleApp, samples: int, rng: random.Random) -> dict[str, list[float]]:
    """Alternate blocks of `m` toggles (voting screen) and typed characters (show screen)."""
    out: dict[str, list[float]] = {"toggle_names": [], "type_char": []}
    field = None
    while len(out["toggle_names"]) + len(out["type_char"]) < samples:
        app.action_show_screen("voting")
        await asyncio.sleep(0.2)
        for _ in range(10):
            before = app.show_names
            out["toggle_names"].append(await _one_key(app, "m", "m", lambda b=before: app.show_names != b))
            await asyncio.sleep(rng.uniform(0.02, 0.06))
        app.action_show_screen("show")
        await asyncio.sleep(0.2)
        field = app.screen.query_one("#adhoc", Input)
        field.focus()
        field.value = ""
        await asyncio.sleep(0.05)
        for _ in range(10):
            ch = rng.choice("abcdefghijklmnopqrstuvwxyz")
            length = len(field.value)
            out["type_char"].append(await _one_key(app, ch, ch, lambda f=field, n=length: len(f.value) == n + 1))
            await asyncio.sleep(rng.uniform(0.02, 0.06))
        app.screen.query_one("#deck").focus()
    return out


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"n": len(values), "median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2), "max_ms": round(ordered[-1], 2),
            "mean_ms": round(statistics.fmean(ordered), 2)}


async def run(samples: int, rate: float) -> dict[str, object]:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        await asyncio.to_thread(build_show, db)  # round 2 has its poll open
        app = create_app(db, DEMO_EVENT, seed=7, time_scale=0, clock=lambda: T0 + 12, cursor_blink=False)
        async with app.run_test(size=(120, 40)):
            await asyncio.sleep(0.5)
            quiet = await sample(app, samples, rng)
            writer = subprocess.Popen([sys.executable, "-m", "tests.tui_support", "storm", str(db), "2",
                                       str(rate), "600"], cwd=ROOT, stdout=subprocess.DEVNULL)
            try:
                await asyncio.sleep(1.0)
                refreshes, started = app.refreshes, time.monotonic()
                storm = await sample(app, samples, rng)
                storm_s = time.monotonic() - started
                refresh_rate = (app.refreshes - refreshes) / storm_s
            finally:
                writer.terminate()
                writer.wait(timeout=10)
        with Store(db) as store:
            first, last, n = store.db.execute(
                "SELECT MIN(cast_at), MAX(cast_at), COUNT(*) FROM votes WHERE device_id LIKE 'storm-%'").fetchone()
    quiet_all = quiet["toggle_names"] + quiet["type_char"]
    storm_all = storm["toggle_names"] + storm["type_char"]
    result = {
        "benchmark": "console keypress-to-render latency",
        "method": __doc__.strip().splitlines()[0] if __doc__ else "",
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count(),
                    "platform": platform.platform()},
        "target_median_ms": TARGET_MS,
        "baseline_quiet": {"all": _stats(quiet_all), **{k: _stats(v) for k, v in quiet.items()}},
        "vote_storm": {"all": _stats(storm_all), **{k: _stats(v) for k, v in storm.items()},
                       "votes_written": n, "votes_per_s": round(n / (last - first), 1) if n > 1 else 0.0,
                       "console_store_refreshes_per_s": round(refresh_rate, 2), "seconds": round(storm_s, 2)},
    }
    storm_median = _stats(storm_all)["median_ms"]
    result["storm_vs_baseline_median"] = round(storm_median / max(_stats(quiet_all)["median_ms"], 1e-9), 2)
    result["target_met"] = storm_median < TARGET_MS
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=200, help="keys per phase (quiet, storm)")
    parser.add_argument("--rate", type=float, default=2000.0, help="storm votes per second")
    args = parser.parse_args()
    result = asyncio.run(run(args.samples, args.rate))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "console.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
