"""`python -m tests.drills director DB ...` (the resuming MC) and `... console DB PORT LOG` (the console's hub)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from tests.drills.hub import console_stand_in
from tests.drills.mc import mc_loop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.drills", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("director", help="run the resuming MC loop on a database")
    d.add_argument("db", type=Path)
    d.add_argument("--rounds", type=int, default=2)
    d.add_argument("--speed", type=float, default=0.1)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--phones", type=int, default=200)
    c = sub.add_parser("console", help="stand in for the console's process: supervise a hub until killed")
    c.add_argument("db", type=Path)
    c.add_argument("port", type=int)
    c.add_argument("log", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "console":
        console_stand_in(args.db, args.port, args.log)
    else:
        asyncio.run(mc_loop(args.db, args.rounds, args.speed, args.seed, args.phones))


if __name__ == "__main__":
    main()
