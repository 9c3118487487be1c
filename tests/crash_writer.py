"""Child process for the crash test: writes votes and panel scores, reporting each commit on stdout."""

from __future__ import annotations

import random
import sys
import time

from finale.core.model import PanelScore
from finale.store import Store, VoteIn


def main(db: str, seed: int) -> None:
    rng = random.Random(seed)
    store = Store(db)
    rnd = store.current_round()
    assert rnd is not None
    labels = sorted(rnd.labels.values())
    fids = sorted(rnd.labels)
    panelists = sorted(store.tokens("panelists"))
    criteria = store.event().criterion_ids
    n = 0
    print("ready", flush=True)
    while True:
        n += 1
        if rng.random() < 0.7:
            batch = [VoteIn(rnd.id, f"dev-{rng.randrange(300)}", rng.choice(labels), f"{seed}-{n}-{i}",
                            time.time()) for i in range(rng.randrange(1, 40))]
            store.record_votes(batch)
            print("votes", " ".join(f"{v.device_id}={v.label}@{v.cast_at!r}" for v in batch), flush=True)
        else:
            fid, pid = rng.choice(fids), rng.choice(panelists)
            scores = {c: float(rng.randrange(11)) for c in criteria}
            store.save_panel_score(PanelScore(rnd.id, fid, pid, scores), actor=pid)
            print("score", fid, pid, " ".join(f"{c}={v}" for c, v in scores.items()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
