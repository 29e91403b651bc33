"""`cjgbot stats`: counts from the anonymous registration, as tables, CSV and an HTML report.

The CLI adds it with `main.add_command(stats)`. Counts below 5 are hidden by
`storage.statistics`; this command only reads the counts and writes them out.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from storage.statistics import Statistics

OUTPUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.command()
@click.option("--from", "start", required=True, metavar="YYYY-MM", help="First month.")
@click.option("--to", "end", required=True, metavar="YYYY-MM", help="Last month (included).")
@click.option("--csv", "csv_file", type=OUTPUT, help="Also write every count to a CSV file.")
@click.option("--html", "html_file", type=OUTPUT, help="Also write a one-page HTML report.")
@click.pass_context
def stats(
    ctx: click.Context, start: str, end: str, csv_file: Path | None, html_file: Path | None
) -> None:
    """Registrations per month by type, topic, partner, age, sex, woonplaats and channel.

    Counts below 5 show as "< 5"; "×" hides a number that would give one away.
    """
    # bot.cli imports this module: import it here, not at the top
    from bot.cli import _fail, _run, _settings
    from bot.report import render_html, render_text, write_csv
    from storage.statistics import month_range

    try:
        month_range(start, end)
    except ValueError as exc:
        _fail(f"--from/--to: {exc}")
    if html_file is not None and importlib.util.find_spec("matplotlib") is None:
        _fail("--html needs matplotlib: pip install 'cjgbot[report]'")
    settings = _settings(ctx)
    names = {p.id: p.name for p in settings.partners}

    async def count() -> Statistics:
        from bot.runtime import open_store
        from storage.statistics import registration_statistics

        store = await open_store(settings)
        try:
            async with store.transaction() as repo:
                return await registration_statistics(repo.session, start, end, list(names))
        finally:
            await store.close()

    statistics = _run(count)
    click.echo(render_text(statistics, settings.cjg.name, names), nl=False)
    try:
        if csv_file is not None:
            write_csv(statistics, csv_file)
            click.echo(f"\nCSV: {csv_file}")
        if html_file is not None:
            html_file.write_text(render_html(statistics, settings.cjg.name, names), "utf-8")
            click.echo(f"HTML: {html_file}")
    except OSError as exc:
        _fail(f"cannot write {exc.filename}: {exc.strerror}")
