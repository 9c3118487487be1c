"""The `finale` command: demo, run, export and friends.

Commands parse and check their arguments, then hand over to the package; a
wrong argument or event file ends with one clear line and exit status 2.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import click
from rich.console import Console

from audience.commands import HUB_COMMANDS
from finale.cli_demo import demo_port, missing_script
from finale.cli_options import db_option, open_event_db
from finale.config import ConfigError, EventConfig, load_event
from finale.demo import DEMO_EVENT
from finale.private_files import write_private
from finale.store import StoreError


def _operator(given: str | None, *, ask: bool) -> str:
    """The person at the console: `--as`, else asked (a terminal, `finale run`), else the login name."""
    from finale.core.text import one_line
    from finale.tui.operator import default_operator

    name = one_line(given or "").strip()
    if given is not None and not name:
        raise click.UsageError("--as: give the name of the person at the console")
    if name:
        return name
    if ask and sys.stdin.isatty():
        answer = click.prompt("Who is at the console? (goes on the record)", default=default_operator())
        return one_line(str(answer)).strip() or default_operator()
    return default_operator()


def _default_demo_db() -> Path:
    return Path(tempfile.gettempdir()) / f"finale-demo-{time.strftime('%Y%m%d-%H%M%S')}.db"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="finale")
def main() -> None:
    """Finale: run the live grand finale of an LLM fine-tuning competition."""


AUTOPILOT_OPTION = click.option(
    "--autopilot", is_flag=True, help="Run the whole show unattended: simulated phones and panelists use the real "
    "hub; prints the standings and a health summary (exit status 1, with one line saying why, unless every phone "
    "joined, every panel score was acknowledged, sent == acknowledged == stored and the judge scored every answer: "
    "a judgment that fails twice is waived on the record so the show still finishes).")
AS_OPTION = click.option(
    "--as", "operator", metavar="NAME", default=None,
    help="Who sits at the console: every intent (overrides, waivers, voids, reveals) goes on the record under "
    "this name. Default: `finale run` asks at start in a terminal; `finale demo` and a run without a terminal "
    "use the login name.")
JUDGES_OPTION = click.option("--judges", type=click.IntRange(min=0), default=None,
                             help="With --autopilot: panelists on their own simulated device (default: all); "
                             "the others are typed in by the MC.")


def _run_autopilot(config: EventConfig, event_dir: Path, db_path: Path, *, phones: int, judges: int | None,
                   seed: int, speed: float, hub_url: str | None, local: bool) -> None:
    """`--autopilot` for demo and run: the show unattended, then the standings and the health summary."""
    from finale.autopilot.health import health_table, verdict
    from finale.autopilot.launch import run_autopilot_show
    from finale.standings_view import standings_table

    host, port = ("127.0.0.1", None) if local else (config.hub.host, config.hub.port)
    try:
        result = run_autopilot_show(db_path, config, event_dir, phones=phones, seed=seed, time_scale=speed,
                                    judges=len(config.panelists) if judges is None else judges, hub_url=hub_url,
                                    host=host, port=port)
    except (ValueError, StoreError) as exc:  # checked before the show starts: the arguments or the event file
        raise click.UsageError(str(exc)) from None
    except RuntimeError as exc:  # a busy port, a hub that did not start, a show that stopped (ShowFailed)
        raise click.ClickException(str(exc)) from None
    console = Console(width=100)
    console.print(standings_table(result.show.standings, result.show.names, config.to_core().weights,
                                  title=f"{config.event.name}: final standings"))
    console.print(health_table(result.health))
    console.print(f"Database: {result.show.db_path}")
    if (why := verdict(result.health)) is not None:
        click.echo(why, err=True)
        sys.exit(1)


@main.command()
@click.option("--headless", is_flag=True, help="Run the whole show without a screen and print the standings.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed for labels, timings, panel and votes.")
@db_option("Database file to create (default: a new file in the temp folder).", existing=False, required=False,
           envvar=False)
@click.option("--speed", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Time scale of the scripted finalists: 1 is realistic, 0 is instant.")
@click.option("--phones", type=click.IntRange(min=0), default=120, show_default=True,
              help="Simulated audience size (--headless and --autopilot).")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=None,
              help="The hub's port (default: the demo's 8765, or a free one, named on the terminal, when 8765 is "
              "taken; 0: any free port).")
@click.option("--no-hub", is_flag=True, help="Console only: do not start the audience hub.")
@click.option("--hub-url", help="Use a hub that is already running at this URL instead of starting one.")
@AUTOPILOT_OPTION
@JUDGES_OPTION
@AS_OPTION
def demo(headless: bool, seed: int, db_path: Path | None, speed: float, phones: int, no_hub: bool,
         port: int | None, hub_url: str | None, autopilot: bool, judges: int | None, operator: str | None) -> None:
    """The bundled rehearsal event: no AWS account, no network."""
    config = load_event(DEMO_EVENT)
    db_path = db_path or _default_demo_db()
    if autopilot:
        _run_autopilot(config, DEMO_EVENT.parent, db_path, phones=phones, judges=judges, seed=seed, speed=speed,
                       hub_url=hub_url, local=True)
        return
    if not headless:
        from finale.tui.launch import run_console

        hub_port = demo_port(port, db_path, config) if hub_url is None and not no_hub else None
        try:
            run_console(db_path, DEMO_EVENT, seed=seed, time_scale=speed, hub_url=hub_url, hub_port=hub_port,
                        start_hub_process=not no_hub, operator=_operator(operator, ask=False))
        except StoreError as exc:
            raise click.UsageError(str(exc)) from None
        return
    from finale.headless import run_headless
    from finale.standings_view import standings_table

    try:
        result = run_headless(db_path, config, DEMO_EVENT.parent, seed=seed, time_scale=speed, phones=phones)
    except (ValueError, StoreError) as exc:  # the --db given cannot hold a new show
        raise click.UsageError(str(exc)) from None
    except RuntimeError as exc:  # the show stopped mid-way (finale.runner.ShowFailed)
        raise click.ClickException(str(exc)) from None
    console = Console(width=100)
    console.print(standings_table(result.standings, result.names, config.to_core().weights,
                                  title=f"{config.event.name}: final standings"))
    console.print(f"Overrides applied: {result.overrides}")
    console.print(f"Database: {result.db_path}")
    if result.waivers:
        from finale.runner import waived_line

        click.echo(f"headless: {waived_line([w.round_id for w in result.waivers])}", err=True)
        sys.exit(1)


@main.command("run")
@click.argument("event_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option("The event database (default: EVENT_FILE with the suffix .db). An existing one is resumed.",
           existing=False, required=False, envvar=False)
@click.option("--resume", is_flag=True, help="Reopen an existing database exactly where the show was.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed for labels and rehearsal timings.")
@click.option("--speed", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Time scale of rehearsal endpoints: 1 is realistic, 0 is instant.")
@click.option("--no-hub", is_flag=True, help="Console only: do not start the audience hub.")
@click.option("--hub-url", help="Use a hub that is already running at this URL instead of starting one.")
@AUTOPILOT_OPTION
@click.option("--phones", type=click.IntRange(min=1), default=120, show_default=True,
              help="Simulated phones with --autopilot.")
@JUDGES_OPTION
@AS_OPTION
def run_cmd(event_file: Path, db_path: Path | None, resume: bool, seed: int, speed: float, no_hub: bool,
            hub_url: str | None, autopilot: bool, phones: int, judges: int | None, operator: str | None) -> None:
    """Run the show from the console (the MC's terminal)."""
    config = load_event(event_file)
    db_path = db_path or event_file.with_suffix(".db")
    if autopilot:
        _run_autopilot(config, event_file.parent, db_path, phones=phones, judges=judges, seed=seed, speed=speed,
                       hub_url=hub_url, local=False)
        return
    if resume and not db_path.exists():
        raise click.UsageError(f"--resume: no database at {db_path}; drop --resume to start a new show")
    from finale.tui.launch import run_console

    try:
        run_console(db_path, event_file, seed=seed, time_scale=speed, hub_url=hub_url, start_hub_process=not no_hub,
                    operator=_operator(operator, ask=True))
    except StoreError as exc:
        raise click.UsageError(str(exc)) from None


@main.command("export")
@db_option("The event database.", envvar=False)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="json", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="A folder for csv, a file for json.")
def export_cmd(db_path: Path, fmt: str, out: Path) -> None:
    """Export rounds, answers, judgments, panel scores, vote totals, overrides and the audit log."""
    from finale.export import export

    with open_event_db(db_path) as store:
        for path in export(store, out, fmt):
            click.echo(str(path))


@main.command("standings")
@db_option(None, envvar=False)
def standings_cmd(db_path: Path) -> None:
    """Print the standings of final rounds in a database."""
    from finale.core.scoring import standings
    from finale.standings_view import standings_table

    with open_event_db(db_path) as store:
        config = store.event_config()
        rows = standings(store.event(), store.records())
        Console(width=100).print(standings_table(rows, {f.id: f.name for f in config.finalists},
                                                 config.to_core().weights))


@main.command("validate")
@click.argument("event_file", type=click.Path(dir_okay=False, path_type=Path))
def validate_cmd(event_file: Path) -> None:
    """Check an event file and say what is wrong, key by key."""
    config = load_event(event_file)
    if (missing := missing_script(event_file, config)) is not None:
        raise ConfigError(missing)
    click.echo(f"{event_file}: ok ({len(config.finalists)} finalists, {len(config.panelists)} panelists, "
               f"{len(config.questions)} questions)")
    _echo_reach_warnings(event_file, config)


def _echo_reach_warnings(event_file: Path, config: EventConfig) -> None:
    """Warn (stderr, exit status unchanged) when phones could not reach the hub as configured."""
    from audience.reach import reach_warnings

    for warning in reach_warnings(config):
        click.echo(f"{event_file}: warning: {warning}", err=True)


@main.command("check")
@click.argument("event_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="Seconds each check may take.")
def check_cmd(event_file: Path, timeout_s: float) -> None:
    """Preflight: AWS identity, endpoints InService and answering, the judge scoring; exit 1 on any failure."""
    from finale.preflight import print_results, run_preflight

    config = load_event(event_file)
    results = run_preflight(config, event_file.parent, timeout_s, event_file.with_suffix(".db"))  # tuned caps
    passed = print_results(event_file, results, Console(width=160))
    _echo_reach_warnings(event_file, config)
    if not passed:
        sys.exit(1)


@main.command("report")
@db_option()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write (default: <db name>-report.html beside the database).")
def report_cmd(db_path: Path, out: Path | None) -> None:
    """Write the post-show report: one self-contained HTML file that opens offline."""
    from finale.report import build_report

    out = out or db_path.with_name(f"{db_path.stem}-report.html")
    with open_event_db(db_path) as store:
        page = build_report(store)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_private(out, page)
    except OSError as exc:  # the file system refused (permissions, a full disk): a runtime failure, exit 1
        raise click.ClickException(f"cannot write the report to {out}: {exc.strerror or exc}") from None
    click.echo(str(out))


@main.command("seal")
@click.argument("event_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option("The event database (default: EVENT_FILE with the suffix .db); set up from EVENT_FILE first.",
           existing=False, required=False, envvar=False)
@click.option("--actor", default="organiser", show_default=True, help="Who seals, for the audit log.")
def seal_cmd(event_file: Path, db_path: Path | None, actor: str) -> None:
    """Seal the score before the first round: store the manifest and print its SHA-256 (the stage shows it)."""
    from finale.core.text import one_line
    from finale.store import Store

    config = load_event(event_file)
    db_path = db_path or event_file.with_suffix(".db")
    try:
        with Store(db_path) as store:
            store.setup_event(config, one_line(actor))  # an edited file after the seal is logged as a change
            row, made = store.seal(one_line(actor))
    except StoreError as exc:
        raise click.UsageError(str(exc)) from None
    state = "sealed" if made else ("already sealed" if row.kind == "seal.sealed" else "sealed, then changed")
    click.echo(f"{state}: sha256 {row.sha256} (event {row.seq}, {db_path})")


@main.command("verify")
@db_option()
def verify_cmd(db_path: Path) -> None:
    """Replay the audit log from empty; check every component, override, vote and the standings (exit 1 if not)."""
    from finale.verify import verify

    with open_event_db(db_path) as store:
        result = verify(store)
    for line in result.lines():
        click.echo(line)
    if not result.ok:
        sys.exit(1)


@main.command("reset")
@click.option("--rehearsal", is_flag=True, help="Required: says this database holds a rehearsal to wipe.")
@db_option()
@click.option("--yes", is_flag=True, help="Skip the typed confirmation (for scripts).")
@click.option("--actor", default="organiser", show_default=True, help="Who is resetting, for the audit log.")
def reset_cmd(rehearsal: bool, db_path: Path, yes: bool, actor: str) -> None:
    """Wipe a rehearsal's rounds, answers, scores, votes and overrides; keep the event setup and tokens."""
    from finale.reset import confirmation_ok, describe, preview, reset_rehearsal

    if not rehearsal:
        raise click.UsageError("reset only clears rehearsals; pass --rehearsal to confirm this database holds one")
    with open_event_db(db_path) as store:
        plan = preview(store)
        click.echo(describe(plan))
        if not yes:
            typed = click.prompt(f'Type the event name ("{plan.event_name}") or "reset" to confirm',
                                 default="", show_default=False)
            if not confirmation_ok(typed, plan.event_name):
                click.echo("Confirmation did not match; nothing was changed.", err=True)
                sys.exit(1)
        wiped = reset_rehearsal(store, actor)
    click.echo(f"Reset done: {wiped['rounds']} rounds and everything in them deleted; the event setup is kept.")


for _command in HUB_COMMANDS:  # finale hub / judges / finalists (audience/commands.py)
    main.add_command(_command)


def run() -> None:
    """Entry point: config errors become one clear message and exit status 2."""
    try:
        main(standalone_mode=True)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


if __name__ == "__main__":
    run()
