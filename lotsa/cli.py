"""The `lotsa` command. Its sub-commands and flags are a contract scripts rely on (README, "Commands")."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from lotsa import logs
from lotsa.settings import ConfigError, Settings, load_settings

log = logging.getLogger("lotsa")


def _settings(args: argparse.Namespace, **extra: object) -> Settings:
    overrides = {"database_url": getattr(args, "database", None), "host": getattr(args, "host", None),
                 "port": getattr(args, "port", None), **extra}
    return load_settings(args.config, overrides=overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    from lotsa.server import serve

    settings = _settings(args, telegram_polling=True if args.telegram_polling else None)
    settings.secret_bytes()
    serve(settings)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from lotsa.demo import run_demo

    run_demo(args.config, args.port)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from lotsa.db import upgrade

    settings = _settings(args)
    from lotsa.admin.documents import import_configuration

    upgrade(settings.effective_database_url, settings.secret_bytes() if settings.secret_key is not None else None)
    imported = asyncio.run(import_configuration(settings.effective_database_url, settings.config_dir))
    print("database is up to date" + (f"; {len(imported)} configuration documents imported" if imported else ""))
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    from lotsa.backup import BackupRefused, backup

    settings = _settings(args)
    try:
        size = backup(settings.effective_database_url, args.file)
    except BackupRefused as e:
        print(f"lotsa db backup: {e}", file=sys.stderr)
        return 2
    print(f"backup written to {args.file} ({size} bytes)")
    return 0


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("the passwords differ")
    return first


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _check_queues(settings: Settings, queues: list[str]) -> None:
    from handoff.queues import QueueDirectory

    known = QueueDirectory.load(settings.config_dir / "queues.yaml").queues
    unknown = [q for q in queues if q not in known]
    if unknown:
        raise ConfigError(f"--queues: {unknown} are not in {settings.config_dir / 'queues.yaml'}")


def cmd_user_add(args: argparse.Namespace) -> int:
    from lotsa.auth import AuthError, add_user
    from lotsa.crypto import Keyring
    from lotsa.db import Database

    settings = _settings(args)
    _check_queues(settings, _csv(args.queues))
    keyring = Keyring(settings.secret_bytes()) if args.phone else None
    password = _read_password()

    async def run() -> None:
        db = Database(settings.effective_database_url)
        try:
            await add_user(db, args.name, password, args.role, languages=_csv(args.languages),
                           queues=_csv(args.queues), max_chats=args.max_chats, phone=args.phone,
                           keyring=keyring)
        finally:
            await db.close()

    try:
        asyncio.run(run())
    except AuthError as e:
        print(f"lotsa user add: {e}", file=sys.stderr)
        return 2
    print(f"added {args.role} {args.name}")
    return 0


def cmd_user_switch(args: argparse.Namespace) -> int:
    from lotsa.user_cli import run

    return run(_settings(args), args.user_command, args.name)


def cmd_purge(args: argparse.Namespace) -> int:
    from lotsa.db import Database
    from lotsa.retention import purge
    from lotsa.services import build_conversations

    settings = _settings(args)

    async def run() -> dict[str, int]:
        db = Database(settings.effective_database_url)
        try:
            report = await purge(build_conversations(settings, db), retention_days=settings.retention_days,
                                 reply_address_grace_hours=settings.reply_address_grace_hours)
        finally:
            await db.close()
        return report.as_dict()

    print(json.dumps(asyncio.run(run())))
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from handoff.simulate import PlanError, run

    flags = {"counsellors": args.counsellors, "max_chats": args.chats_per_counsellor, "per_hour": args.per_hour,
             "risk_mix": args.risk_mix, "chat_minutes": args.chat_minutes, "patience_minutes": args.patience_minutes,
             "days": args.days, "target_seconds": args.target_seconds, "seed": args.seed}
    try:
        return run(args.config or load_settings().config_dir, args.plan, flags, args.json)
    except PlanError as e:
        print(f"lotsa simulate: {e}", file=sys.stderr)
        return 2


def cmd_report(args: argparse.Namespace) -> int:
    from handoff.report_command import run_report

    return run_report(_settings(args), args.start, args.end, args.format, args.out)


def _benchmark_args(prog: str, add_arguments: Callable[[argparse.ArgumentParser], None],
                    argv: list[str]) -> argparse.Namespace:
    """The benchmark's own options: the `lotsa` parser passes them through unparsed (see `main`)."""
    bench_parser = argparse.ArgumentParser(prog=prog)
    add_arguments(bench_parser)
    return bench_parser.parse_args(argv)


def cmd_bench(args: argparse.Namespace) -> int:
    from benchmarks import load

    return load.run(_benchmark_args("lotsa bench", load.add_arguments, args.passed_on))


def cmd_triage_bench(args: argparse.Namespace) -> int:
    from benchmarks import triage_speed

    return triage_speed.run(_benchmark_args("lotsa triage bench", triage_speed.add_arguments, args.passed_on))


def _add_benchmarks(sub: argparse._SubParsersAction,
                    triage: argparse._SubParsersAction) -> None:
    """The benchmarks live in the `benchmarks` package, which the service never imports: their options
    are parsed only when one runs, so building this parser does not load them."""
    bench = sub.add_parser("bench", add_help=False, help="the load benchmark: message delivery times under load")
    bench.set_defaults(func=cmd_bench, passes_on=True)
    speed = triage.add_parser("bench", add_help=False, help="classify speed on one core and model load time")
    speed.set_defaults(func=cmd_triage_bench, passes_on=True)


def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
    sp.add_argument("--config", type=Path, help="an admin's configuration folder (default: the packaged one)")
    sp.add_argument("--database", help="database URL (default: SQLite under ./var)")
    return sp


def _add_service(sub: argparse._SubParsersAction) -> None:
    serve = with_config(sub.add_parser("serve", help="run the service"))
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--telegram-polling", action="store_true",
                       help="development: fetch Telegram updates instead of receiving webhooks")
    serve.set_defaults(func=cmd_serve)

    purge = with_config(sub.add_parser("purge", help="apply the retention policy now"))
    purge.set_defaults(func=cmd_purge)
    demo = sub.add_parser("demo", help="run the service on a fresh SQLite file with demo data")
    demo.add_argument("--config", type=Path)
    demo.add_argument("--port", type=int, default=8080)
    demo.set_defaults(func=cmd_demo)
    db = sub.add_parser("db", help="database tasks").add_subparsers(dest="db_command", required=True)
    with_config(db.add_parser("upgrade", help="apply migrations")).set_defaults(func=cmd_db_upgrade)
    backup = with_config(db.add_parser("backup", help="copy the SQLite database to FILE, safe while serving"))
    backup.add_argument("file", type=Path)
    backup.set_defaults(func=cmd_db_backup)


def _add_report(sub: argparse._SubParsersAction) -> None:
    report = with_config(sub.add_parser("report", help="anonymous statistics of a period, small counts protected"))
    report.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD (Europe/Stockholm)")
    report.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (inclusive)")
    report.add_argument("--format", choices=["json", "csv", "html"], default="json")
    report.add_argument("--out", type=Path, help="write to this file instead of standard output")
    report.set_defaults(func=cmd_report)


def _add_user(sub: argparse._SubParsersAction) -> None:
    user = sub.add_parser("user", help="staff accounts").add_subparsers(dest="user_command", required=True)
    add = with_config(user.add_parser("add", help="create a staff account (password from stdin or asked)"))
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["counsellor", "supervisor", "admin"])
    add.add_argument("--languages", help="languages counselled in, e.g. sv,en (default: any)")
    add.add_argument("--queues", help="queue ids taken from, e.g. sells,acute (default: every queue)")
    add.add_argument("--max-chats", type=int, default=3, help="most simultaneous chats (default: 3)")
    add.add_argument("--phone", help="where calls this counsellor takes are put through (E.164, e.g. +46701234567)")
    add.set_defaults(func=cmd_user_add)
    for action, text in (("disable", "disable an account: its sessions end, its chats go back to the queue"),
                         ("enable", "enable a disabled account again")):
        switch = with_config(user.add_parser(action, help=text))
        switch.add_argument("name")
        switch.set_defaults(func=cmd_user_switch)


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    simulate = sub.add_parser("simulate", help="a day of contacts against N counsellors, beside Erlang C")
    simulate.add_argument("--config", type=Path, help="the configuration whose queues route (default: the packaged one)")
    simulate.add_argument("--plan", type=Path, help="the plan (YAML; default: simulation.yaml of the configuration)")
    simulate.add_argument("--counsellors", type=int, help="that many counsellors who take anyone (replaces the plan's)")
    simulate.add_argument("--chats-per-counsellor", type=int, help="chats each counsellor takes at once")
    simulate.add_argument("--per-hour", help="contacts per hour: one number, or 24 separated by commas (00-01 first)")
    simulate.add_argument("--risk-mix", help="e.g. acute=0.05,elevated=0.1,routine=0.85")
    simulate.add_argument("--chat-minutes", type=float, help="a chat's mean length, wrap-up included")
    simulate.add_argument("--patience-minutes", type=float, help="mean wait before people give up (0: never)")
    simulate.add_argument("--days", type=int, help="days simulated one after another")
    simulate.add_argument("--target-seconds", type=float, help="the answer-time target reported")
    simulate.add_argument("--seed", type=int)
    simulate.add_argument("--json", action="store_true", help="also print one JSON object last")
    simulate.set_defaults(func=cmd_simulate)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lotsa", description="Anonymous chat and phone hotline with triage.")
    sub = p.add_subparsers(dest="command", required=True)
    for add_commands_of in (_add_service, _add_report, _add_user, _add_simulate):
        add_commands_of(sub)
    from lotsa.admin.cli import add_commands as add_version_commands
    from lotsa.triage_cli import add_commands

    triage = add_commands(sub)
    add_version_commands(triage, with_config)
    _add_benchmarks(sub, triage)
    return p


PROCESS_ENVIRONMENT = {"PTB_TIMEDELTA": "true"}
"""Set for the whole process at start. python-telegram-bot 22 moves time periods from int to
timedelta; without this opt-in every flood-control answer (RetryAfter) warns inside the library."""


def main(argv: list[str] | None = None) -> int:
    for name, value in PROCESS_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    cli = parser()
    args, passed_on = cli.parse_known_args(argv)
    if passed_on and not getattr(args, "passes_on", False):
        cli.error(f"unrecognized arguments: {' '.join(passed_on)}")
    args.passed_on = passed_on
    logs.configure("INFO")
    try:
        return int(args.func(args))
    except ConfigError as e:
        print(f"lotsa: configuration error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
