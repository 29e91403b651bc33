"""The `cjgbot` command line: chat, run, nlu, config and database commands."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging
from storage.crypto import KeyError_

T = TypeVar("T")


def _fail(message: str) -> None:
    click.echo(f"cjgbot: {message}", err=True)
    sys.exit(2)


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings(ctx.obj.get("config"))
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")
        raise  # unreachable


def _run(coro: Callable[[], Awaitable[T]], quick_start: bool = False) -> T:
    """Run a command's coroutine; ConfigError and KeyError_ become a clear message.

    With `quick_start` (the bot itself) the garbage collector pauses until the runtime is
    built: start-up makes some hundred thousand objects that live as long as the process
    (modules, configuration, the NLU model), and the collector's passes over them took
    0.2-0.3 s of a 1.5-2 s start. `bot.runtime.settle_heap` freezes them and resumes it.
    """
    if quick_start:
        gc.disable()
    try:
        return asyncio.run(coro())  # type: ignore[arg-type]
    except (ConfigError, KeyError_) as exc:
        _fail(str(exc))
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        gc.enable()  # also when the start-up stopped before the runtime was built


@click.group()
@click.option(
    "-c",
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CJGBOT_CONFIG",
    help="Configuration file (default: the packaged sample).",
)
@click.option("--log-level", default="WARNING", envvar="CJGBOT_LOG_LEVEL", show_default=True)
@click.pass_context
def main(ctx: click.Context, config: Path | None, log_level: str) -> None:
    """The chatbot of the CJG loket."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    setup_logging(log_level)


@main.command()
@click.option("--colour/--no-colour", default=None, help="Colours (default: when a terminal).")
@click.pass_context
def chat(ctx: click.Context, colour: bool | None) -> None:
    """Be the parent in this terminal (piped input: one message per line)."""
    settings = _settings(ctx)

    async def go() -> None:
        from bot.channels.console import CHANNEL, make_console, run_console
        from bot.runtime import build_runtime

        names = {p.id: p.name for p in settings.partners}
        parent, rooms = make_console(names, sys.stdout, colour)
        runtime = await build_runtime(settings, rooms)
        runtime.app.add_parent_channel(CHANNEL, parent)
        try:
            await run_console(runtime.app, parent, sys.stdin, sys.stdout, sys.stdin.isatty())
        finally:
            await runtime.close()

    _run(go, quick_start=True)


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the bot with every channel the configuration enables, and its timers."""
    settings = _settings(ctx)

    async def go() -> None:
        from bot.service import run_service

        await run_service(settings)

    _run(go, quick_start=True)


@main.command()
@click.option("--dry-run", is_flag=True, help="Only show what is due when.")
@click.pass_context
def purge(ctx: click.Context, dry_run: bool) -> None:
    """Run a deletion sweep now (or show the schedule with --dry-run)."""
    settings = _settings(ctx)

    async def go() -> None:
        from bot.channels.console import make_console
        from bot.retention import Sweeper
        from bot.runtime import build_runtime

        _, rooms = make_console({p.id: p.name for p in settings.partners}, sys.stdout, False)
        runtime = await build_runtime(settings, rooms, load_model=False)
        try:
            sweeper = Sweeper(
                runtime.app, settings.retention.audit_days, settings.retention.sweep_batch_size
            )
            if dry_run:
                plan = await sweeper.plan()
                now = runtime.app.clock()
                click.echo(
                    f"{len(plan.handovers)} handovers and {len(plan.conversations)} "
                    "conversations have a deletion deadline:"
                )
                for number, due in plan.handovers:
                    state = "due now" if due <= now else f"due {due:%Y-%m-%d %H:%M} UTC"
                    click.echo(f"  handover {number}: {state}")
                for _conversation, due in plan.conversations:
                    state = "due now" if due <= now else f"due {due:%Y-%m-%d %H:%M} UTC"
                    click.echo(f"  conversation: {state}")
                return
            report = await sweeper.sweep()
            for key, value in report.as_dict().items():
                click.echo(f"{key.replace('_', ' ')}: {value}")
        finally:
            await runtime.close()

    _run(go)


@main.command()
@click.option("--handover", "number", type=int, help="Only this handover number.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="From this date (UTC).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Up to this date (UTC).")
@click.pass_context
def audit(ctx: click.Context, number: int | None, start: Any, end: Any) -> None:
    """List audit events: time, event, actor role, organisation, handover number."""
    settings = _settings(ctx)

    async def go() -> None:
        from datetime import UTC

        from bot.runtime import open_store

        store = await open_store(settings)
        try:
            async with store.transaction() as repo:
                rows = await repo.audit_events(
                    number,
                    start.replace(tzinfo=UTC) if start else None,
                    end.replace(tzinfo=UTC) if end else None,
                )
        finally:
            await store.close()
        for row in rows:
            click.echo(
                f"{row.at:%Y-%m-%d %H:%M:%S}  {row.event:<28} {row.actor_role:<8} "
                f"{row.organisation or '-':<10} {row.handover_number or '-'}"
            )
        click.echo(f"{len(rows)} events")

    _run(go)


@main.group()
def config() -> None:
    """Configuration commands."""


@config.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the configuration and say so in one line."""
    settings = _settings(ctx.find_root())
    click.echo(f"configuration OK: {settings.cjg.name}, {len(settings.partners)} partners")


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    settings = _settings(ctx.find_root())

    async def go() -> None:
        from storage.database import create_engine, migrate

        engine = create_engine(settings.storage.database_url)
        await migrate(engine, revision)
        await engine.dispose()

    _run(go)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_context
def db_downgrade(ctx: click.Context, revision: str) -> None:
    settings = _settings(ctx.find_root())

    async def go() -> None:
        from storage.database import create_engine, migrate

        engine = create_engine(settings.storage.database_url)
        await migrate(engine, revision, down=True)
        await engine.dispose()

    _run(go)
    click.echo(f"database at {revision}")


@main.group()
def matrix() -> None:
    """Matrix: the loket room and the partner rooms."""


@matrix.command("setup")
@click.option(
    "--write",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the room ids as YAML to this file.",
)
@click.pass_context
def matrix_setup(ctx: click.Context, write: Path | None) -> None:
    """Create the rooms (or check and repair configured ones); print their ids."""
    settings = _settings(ctx.find_root())

    async def go() -> Any:
        from bot.channels.matrix import MatrixLoginError, setup_rooms

        try:
            return await setup_rooms(settings)
        except MatrixLoginError as exc:
            raise ConfigError(f"channels.matrix: {exc}") from None

    report = _run(go)
    click.echo(report.summary())
    click.echo("\n# Zet dit in de configuratie (loket.room en partners[].room):")
    click.echo(report.as_yaml())
    if write is not None:
        write.write_text(report.as_yaml(), encoding="utf-8")
    if not report.ok:
        sys.exit(1)


@matrix.command("invite")
@click.argument("room")
@click.argument("user_id")
@click.pass_context
def matrix_invite(ctx: click.Context, room: str, user_id: str) -> None:
    """Invite USER_ID (@naam:server) into ROOM ('loket' or a partner id)."""
    settings = _settings(ctx.find_root())

    async def go() -> None:
        from bot.channels.matrix import invite_member

        await invite_member(settings, room, user_id)

    _run(go)
    click.echo(f"uitgenodigd in {room}")


@main.group()
def nlu() -> None:
    """Understanding messages: parse, train, evaluate."""


def _load_nlu(ctx: click.Context) -> Any:
    from bot.runtime import load_nlu

    return load_nlu(_settings(ctx.find_root()))


@nlu.command("parse")
@click.argument("text")
@click.pass_context
def nlu_parse(ctx: click.Context, text: str) -> None:
    """Print route, topic, partner and confidence of TEXT as JSON."""
    result = _load_nlu(ctx).parse(text)
    click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))


@nlu.command("train")
@click.pass_context
def nlu_train(ctx: click.Context) -> None:
    """Train the embedded classifier now (it also trains itself when the data changed)."""
    from bot.runtime import cache_dir
    from nlu.pipeline import Nlu

    settings = _settings(ctx.find_root())
    model = Nlu.load(cache_dir=cache_dir(settings), retrain=True)
    click.echo(f"trained on {model.n_examples} examples")


@nlu.command("test")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object with all numbers.")
@click.option("--cross-validation", is_flag=True, help="Cross-validate on the training data.")
@click.option("-f", "--folds", default=5, show_default=True)
@click.pass_context
def nlu_test(
    ctx: click.Context, file: Path | None, as_json: bool, cross_validation: bool, folds: int
) -> None:
    """Evaluate on a labelled JSONL FILE (or cross-validate on the training data)."""
    from nlu.evaluate import cross_validate, evaluate, format_report, load_rows
    from nlu.training_data import load_examples

    if cross_validation:
        report = cross_validate(load_examples(), folds=folds)
    elif file is None:
        raise click.UsageError("give a FILE or --cross-validation")
    else:
        report = evaluate(_load_nlu(ctx), load_rows(file))
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        click.echo(format_report(report))


def _register_more() -> None:
    from bot.stats_command import stats

    main.add_command(stats)


_register_more()

if __name__ == "__main__":
    main()
