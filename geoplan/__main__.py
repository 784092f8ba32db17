"""``python -m geoplan``: the same as the ``geoplan`` command."""

from geoplan.cli import main

if __name__ == "__main__":
    main(prog_name="geoplan")
