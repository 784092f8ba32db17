"""The root click group; each topic adds its commands from its own module."""

from __future__ import annotations

import click

from geoplan.cli._common import configure_logging, record_phases


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="geoplan")
@click.pass_context
def main(ctx: click.Context, verbose: int) -> None:
    """geoplan: audit community-service planning targets on real geodata."""
    configure_logging(verbose)
    record_phases(ctx)  # GEOPLAN_PHASES=FILE: the phases of the command, as JSON lines


def _register() -> None:
    # One module per topic; each lists its click commands in COMMANDS (the
    # development module attaches itself to the ``audit`` group instead).
    from geoplan.cli import (
        access,
        audit,
        batch,
        coverage,
        demo,
        development,
        grids,
        map,
        network,
        profiles,
        site,
    )

    for mod in (
        profiles,
        audit,
        development,
        demo,
        network,
        coverage,
        access,
        batch,
        map,
        site,
        grids,
    ):
        for cmd in getattr(mod, "COMMANDS", ()):
            main.add_command(cmd)


_register()
