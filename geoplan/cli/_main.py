"""The root click group; each topic adds its commands from its own module."""

from __future__ import annotations

import click

from geoplan.cli._common import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="geoplan")
def main(verbose: int) -> None:
    """geoplan: audit community-service planning targets on real geodata."""
    configure_logging(verbose)


def _register() -> None:
    # Commands live in one module per topic; a module that is not there yet is skipped
    # only while the package is being built up. Import errors inside a module surface.
    import importlib

    for name in (
        "profiles",
        "audit",
        "development",
        "demo",
        "network",
        "coverage",
        "map",
        "site",
        "grids",
    ):
        try:
            mod = importlib.import_module(f"geoplan.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"geoplan.cli.{name}":
                raise
            continue
        for cmd in getattr(mod, "COMMANDS", ()):
            main.add_command(cmd)


_register()
