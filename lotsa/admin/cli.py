"""`lotsa triage publish FILE --comment C`, `lotsa triage versions`, `lotsa triage rollback VERSION`:
an admin's triage script versions from the command line (a running service switches within seconds)."""
from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import yaml

from lotsa.admin.bundle import Invalid
from lotsa.admin.documents import Conflict, DocumentStore, file_documents
from lotsa.admin.publishing import Refusal, publish, rollback
from lotsa.db import Database
from lotsa.settings import Settings, load_settings

ACTOR = "cli"


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config, overrides={"database_url": args.database})


def _on_database(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    """Run `work` on the configured database (the configuration files imported first, as at start)
    and close it; `work`'s exit code."""
    async def run() -> int:
        db = Database(settings.effective_database_url)
        try:
            await DocumentStore(db).import_files(file_documents(settings.config_dir))
            return await work(db)
        finally:
            await db.close()
    return asyncio.run(run())


def cmd_publish(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        draft = Path(args.file).read_text(encoding="utf-8")
        data = yaml.safe_load(draft)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        print(f"lotsa triage publish: {args.file}: {e}", file=sys.stderr)
        return 2
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str):
        print(f"lotsa triage publish: {args.file}: a triage script has a name", file=sys.stderr)
        return 2

    async def work(db: Database) -> int:
        try:
            document = await publish(db, "triage_script", name, draft, author=ACTOR, comment=args.comment,
                                     base_version=None)
        except Invalid as e:
            for problem in e.problems:
                where = f"{args.file}:{problem.line}: " if problem.line else f"{args.file}: "
                print(f"{where}{problem.key + ': ' if problem.key else ''}{problem.message}", file=sys.stderr)
            return 1
        except (Refusal, Conflict) as e:
            print(f"lotsa triage publish: {e}", file=sys.stderr)
            return 1
        print(f"published {name} version {document.version}")
        return 0
    return _on_database(settings, work)


def cmd_versions(args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        store = DocumentStore(db)
        names = sorted(name for kind, name in await store.active() if kind == "triage_script")
        for name in names:
            for n, doc in enumerate(await store.versions("triage_script", name)):
                active = "active" if n == 0 else ""
                print(f"{name}\t{doc.version}\t{doc.created_at:%Y-%m-%d %H:%M}\t{doc.author}\t{active}\t"
                      f"{doc.comment}")
        return 0
    return _on_database(_settings(args), work)


def cmd_rollback(args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        try:
            document = await rollback(db, "triage_script", args.script, args.version, author=ACTOR,
                                      comment=args.comment or "")
        except (Invalid, Refusal, Conflict) as e:
            print(f"lotsa triage rollback: {e}", file=sys.stderr)
            return 1
        print(f"{args.script}: version {args.version} published again as version {document.version}")
        return 0
    return _on_database(_settings(args), work)


def add_commands(triage: argparse._SubParsersAction,
                 add: Callable[[argparse.ArgumentParser], argparse.ArgumentParser]) -> None:
    """The parser lines (`lotsa triage …`); `add` gives a parser the CLI's --config and --database."""
    pub = add(triage.add_parser("publish", help="publish a triage script file as the active version"))
    pub.add_argument("file")
    pub.add_argument("--comment", required=True, help="what changed and why (in the history)")
    pub.set_defaults(func=cmd_publish)
    add(triage.add_parser("versions", help="list the triage script versions (newest first)")).set_defaults(
        func=cmd_versions)
    back = add(triage.add_parser("rollback", help="publish an old triage script version again"))
    back.add_argument("version", type=int)
    back.add_argument("--script", default="default", help="the script's name (default: default)")
    back.add_argument("--comment", help="why")
    back.set_defaults(func=cmd_rollback)
