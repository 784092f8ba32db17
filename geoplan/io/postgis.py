"""PostGIS tables as input layers and as output tables, named by a URI.

A table is named like a database connection, plus geoplan's own query keys::

    postgresql://user@host:5432/db?table=buildings&schema=public&geometry=geom

``table`` (else the reader's ``layer=``, else the first of the layer's usual names
that exists: ``buildings``, ``streets`` ...), ``schema`` (default the server's
``current_schema()``) and ``geometry`` (the geometry column, needed only when the
table has several); every other key (``sslmode``, ``connect_timeout``, ``host``
for a unix socket folder ...) goes to the driver. ``postgres://`` and
``postgresql+psycopg://`` are taken too. A password is better kept in
``PGPASSWORD`` or ``~/.pgpass`` than in the URI; messages never show one.

Reading goes through SQLAlchemy, psycopg 3 and :func:`geopandas.read_postgis`; a
``bbox`` read asks only for the rows whose geometry's box meets the window
(``geom && ST_MakeEnvelope(...)`` in the table's SRID, served by the spatial
index), so a task of a distributed run reads its own window. Writing puts the
frame into a new table under a temporary name and renames it onto the target in
the same transaction (DDL is transactional in PostgreSQL): readers see the old
table or the new one, never half of one.

Identifiers are always quoted by SQLAlchemy's identifier preparer and values sent
as bound parameters: no SQL is built from user text. Bad input (the server
unreachable, a table or column missing, no geometry column, an SRID PostGIS or
PROJ does not know) raises :class:`~geoplan._errors.InputError` naming the URI
(password masked), the table and the column.
"""

from __future__ import annotations

import contextlib
import math
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import pandas as pd
import pyproj

from geoplan._errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from geoplan._types import CRSLike

__all__ = [
    "PostgisSource",
    "is_postgis_uri",
    "mask_uri",
    "parse_postgis_uri",
    "read_postgis_layer",
    "same_table",
    "write_postgis_layer",
]

#: URI schemes read as PostGIS tables.
SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
#: Query keys geoplan reads itself; the others go to the driver.
OWN_KEYS = ("table", "schema", "geometry")
_INSTALL = "pip install 'geoplan[postgis]' (sqlalchemy, psycopg, geoalchemy2)"
#: Seconds to wait for a server that does not answer, unless the URI says.
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class PostgisSource:
    """A parsed PostGIS URI: the SQLAlchemy URL and geoplan's keys.

    ``label`` is the URI as messages show it: the password masked.
    """

    url: str
    label: str
    table: str | None
    schema: str | None
    geometry: str | None


def is_postgis_uri(value: object) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URI string.

    Examples
    --------
    >>> is_postgis_uri("postgresql://me@db:5432/city?table=buildings")
    True
    >>> is_postgis_uri("buildings.gpkg"), is_postgis_uri(None)
    (False, False)
    """
    return isinstance(value, str) and value.strip().lower().startswith(SCHEMES)


def mask_uri(uri: str) -> str:
    """``uri`` with its password (in the user part or a ``password=`` key) masked.

    Examples
    --------
    >>> mask_uri("postgresql://me:secret@db:5432/city?table=b")
    'postgresql://me:***@db:5432/city?table=b'
    >>> mask_uri("postgresql://db/city?password=secret&table=b")
    'postgresql://db/city?password=***&table=b'
    """
    try:
        parts = urlsplit(uri.strip())
    except ValueError:
        return "postgresql://<unreadable URI>"
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = "&".join(
        f"{kv.partition('=')[0]}=***" if kv.partition("=")[0].lower() == "password" else kv
        for kv in parts.query.split("&")
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def parse_postgis_uri(uri: str) -> PostgisSource:
    """Split a PostGIS URI into the SQLAlchemy URL and geoplan's keys.

    Examples
    --------
    >>> s = parse_postgis_uri("postgresql://me:pw@db:5432/city?table=楼栋&sslmode=require")
    >>> s.table, s.schema, s.label
    ('楼栋', None, 'postgresql://me:***@db:5432/city?table=楼栋&sslmode=require')
    >>> s.url.startswith("postgresql+psycopg://me:pw@db:5432/city?"), "table" in s.url
    (True, False)
    """
    label = mask_uri(uri)
    if not is_postgis_uri(uri):
        raise InputError("not a postgresql:// URI", file=label)
    try:
        parts = urlsplit(uri.strip())
        _ = parts.port  # a port that is not a number
    except ValueError as exc:
        raise InputError(f"cannot read the URI: {exc}", file=label) from exc
    own: dict[str, str] = {}
    rest: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in OWN_KEYS:
            if key in own:
                raise InputError(f"the URI gives {key}= twice", file=label)
            if not value.strip() or "\x00" in value:
                raise InputError(f"the URI's {key}= is empty", file=label)
            own[key] = value.strip()
        else:
            rest.append((key, value))
    if not parts.path.strip("/"):
        raise InputError(
            "the URI names no database (postgresql://user@host:port/DATABASE)", file=label
        )
    if not any(k == "connect_timeout" for k, _ in rest):
        rest.append(("connect_timeout", str(CONNECT_TIMEOUT_S)))
    url = urlunsplit(
        ("postgresql+psycopg", parts.netloc, parts.path, urlencode(rest, quote_via=quote), "")
    )
    return PostgisSource(
        url=url,
        label=label,
        table=own.get("table"),
        schema=own.get("schema"),
        geometry=own.get("geometry"),
    )


def same_table(a: object, b: object) -> bool:
    """True when two PostGIS URIs name one table of one database (files: False).

    A missing ``schema=`` counts as ``public``; a URI without ``table=`` names none.

    Examples
    --------
    >>> same_table("postgresql://me@db:5432/city?table=b",
    ...            "postgresql://you:pw@db:5432/city?schema=public&table=b")
    True
    >>> same_table("postgresql://me@db/city?table=b", "postgresql://me@db/town?table=b")
    False
    """
    if not (is_postgis_uri(a) and is_postgis_uri(b)):
        return False

    def key(uri: str) -> tuple[object, ...] | None:
        try:
            src = parse_postgis_uri(uri)
            parts = urlsplit(uri.strip())
            where = (parts.hostname or "", parts.port or 5432, parts.path.strip("/"))
        except (InputError, ValueError):
            return None
        return None if src.table is None else (*where, src.schema or "public", src.table)

    ka, kb = key(str(a)), key(str(b))
    return ka is not None and ka == kb


# --------------------------------------------------------------------------- reading


def read_postgis_layer(
    uri: str,
    *,
    bbox: Sequence[float] | None = None,
    bbox_crs: CRSLike | None = None,
    columns: Sequence[str] | None = None,
    layer: str | None = None,
    preferred: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """A PostGIS table as a GeoDataFrame (geometry column ``geometry``, in the table's CRS).

    Parameters
    ----------
    uri
        ``postgresql://user@host:port/db?table=...`` (see the module).
    bbox
        ``(minx, miny, maxx, maxy)``: only the rows whose geometry's bounding box
        meets this window (as a bbox read of a file with pyogrio).
    bbox_crs
        The CRS of ``bbox``; default the table's. The window is transformed to the
        table's SRID (with its edges densified), so the query uses the index.
    columns
        The columns to read besides the geometry; default all of them.
    layer
        The table, when the URI has no ``table=`` (as ``layer=`` names a
        GeoPackage layer).
    preferred
        Without ``table=`` nor ``layer``: the first of these tables that exists.

    Returns
    -------
    GeoDataFrame with a RangeIndex, rows in the table's physical order (the order
    they were written in), ``attrs["source_label"]`` the masked URI.
    """
    src = parse_postgis_uri(uri)
    with _connection(src) as conn:
        schema = _schema(conn, src)
        table = _pick_table(conn, src, schema=schema, layer=layer, preferred=preferred)
        where = f"{src.label}: table {schema}.{table}"
        kind = _relation_kind(conn, schema, table)
        geom, srid = _geometry_column(conn, src, schema=schema, table=table, where=where)
        crs = _crs_of_srid(conn, srid, where=where, column=geom)
        names = _column_names(conn, schema, table)
        if columns is None:
            chosen = [c for c in names if c != geom]
        else:
            chosen = list(dict.fromkeys(str(c) for c in columns if str(c) != geom))
            for c in chosen:
                if c not in names:
                    raise InputError(
                        f"no column {c!r} (its columns: {', '.join(names)})", file=where, column=c
                    )
        if "geometry" in chosen:
            raise InputError(
                f"a column named 'geometry' is not the geometry column ({geom!r}); "
                "leave it out with columns= or rename it",
                file=where,
                column="geometry",
            )
        q = conn.dialect.identifier_preparer.quote_identifier
        select = ", ".join([*(q(c) for c in chosen), f"{q(geom)} AS geometry"])
        sql = f"SELECT {select} FROM {q(schema)}.{q(table)}"
        params: dict[str, Any] = {}
        if bbox is not None:
            sql += f" WHERE {q(geom)} && ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, :srid)"
            window = _window(bbox, bbox_crs=bbox_crs, crs=crs, where=where)
            params = dict(zip(("xmin", "ymin", "xmax", "ymax"), window, strict=True))
            params["srid"] = srid
        if kind == "BASE TABLE":  # file order; a view keeps its own
            sql += " ORDER BY ctid"
        from sqlalchemy import exc as sa_exc
        from sqlalchemy import text

        try:
            frame = gpd.read_postgis(text(sql), conn, geom_col="geometry", crs=crs, params=params)
        except sa_exc.DBAPIError as exc:
            raise InputError(f"cannot read the table: {_reason(exc)}", file=where) from exc
    frame.attrs["source_label"] = where
    frame.attrs["postgis_table"] = f"{schema}.{table}"
    return frame


@contextlib.contextmanager
def _connection(src: PostgisSource, *, begin: bool = False) -> Iterator[Connection]:
    """A connection to the server of ``src`` (bad input when it cannot be had)."""
    try:
        import geoalchemy2  # noqa: F401  (registers the Geometry type for writing)
        import psycopg  # noqa: F401
        import sqlalchemy as sa
        from sqlalchemy import exc as sa_exc
        from sqlalchemy.pool import NullPool
    except ImportError as exc:
        raise InputError(
            f"PostGIS needs Python packages: {_INSTALL} ({exc})", file=src.label
        ) from exc
    try:
        engine = sa.create_engine(src.url, poolclass=NullPool)
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise InputError(f"cannot read the URI: {exc}", file=src.label) from exc
    try:
        try:
            conn = engine.connect()
        except sa_exc.DBAPIError as exc:
            raise InputError(
                f"cannot connect to the PostgreSQL server: {_reason(exc)}", file=src.label
            ) from exc
        with conn:
            if begin:
                with conn.begin():
                    yield conn
            else:
                yield conn
    finally:
        engine.dispose()


def _reason(exc: BaseException) -> str:
    """The driver's message of a database error, on one line."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())
    return text[:500] or type(orig).__name__


def _scalar(conn: Connection, sql: str, **params: object) -> Any:
    from sqlalchemy import text

    return conn.execute(text(sql), params).scalar()


def _rows(conn: Connection, sql: str, **params: object) -> list[Any]:
    from sqlalchemy import text

    return list(conn.execute(text(sql), params).all())


def _schema(conn: Connection, src: PostgisSource) -> str:
    if src.schema is not None:
        found = _scalar(
            conn,
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = :s",
            s=src.schema,
        )
        if found is None:
            raise InputError(f"schema {src.schema!r} does not exist", file=src.label)
        return src.schema
    schema = _scalar(conn, "SELECT current_schema()")
    if schema is None:
        raise InputError("the server's search_path names no schema; give schema=", file=src.label)
    return str(schema)


def _relation_kind(conn: Connection, schema: str, table: str) -> str | None:
    """``BASE TABLE``, ``VIEW`` ... or None for a table that does not exist."""
    kind = _scalar(
        conn,
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_schema = :s AND table_name = :t",
        s=schema,
        t=table,
    )
    return None if kind is None else str(kind)


def _spatial_tables(conn: Connection, schema: str) -> list[str]:
    rows = _rows(
        conn,
        "SELECT DISTINCT f_table_name FROM geometry_columns WHERE f_table_schema = :s ORDER BY 1",
        s=schema,
    )
    return [str(r[0]) for r in rows]


def _pick_table(
    conn: Connection,
    src: PostgisSource,
    *,
    schema: str,
    layer: str | None,
    preferred: Sequence[str],
) -> str:
    if src.table is not None and layer is not None and layer != src.table:
        raise InputError(
            f"the URI names table {src.table!r} and the layer is {layer!r}; give one",
            file=src.label,
        )
    table = src.table or layer
    if table is None:
        table = next((t for t in preferred if _relation_kind(conn, schema, t)), None)
    if table is None:
        tables = _spatial_tables(conn, schema)
        wanted = f" (none of {', '.join(preferred)} exists)" if preferred else ""
        raise InputError(
            f"name the table with ?table=...{wanted}; tables with geometry in schema "
            f"{schema}: {', '.join(tables) or 'none'}",
            file=src.label,
        )
    if _relation_kind(conn, schema, table) is None:
        tables = _spatial_tables(conn, schema)
        raise InputError(
            f"table {schema}.{table} does not exist (tables with geometry in schema "
            f"{schema}: {', '.join(tables[:20]) or 'none'})",
            file=src.label,
        )
    return table


def _geometry_column(
    conn: Connection, src: PostgisSource, *, schema: str, table: str, where: str
) -> tuple[str, int]:
    """The geometry column to read and its SRID (0: none)."""
    rows = _rows(
        conn,
        "SELECT f_geometry_column, srid FROM geometry_columns "
        "WHERE f_table_schema = :s AND f_table_name = :t ORDER BY 1",
        s=schema,
        t=table,
    )
    found = {str(name): int(srid or 0) for name, srid in rows}
    if not found:
        raise InputError(
            "the table has no geometry column (a geography column: cast it to geometry in a view)",
            file=where,
        )
    if src.geometry is not None:
        if src.geometry not in found:
            raise InputError(
                f"no geometry column {src.geometry!r} (its geometry columns: {', '.join(found)})",
                file=where,
                column=src.geometry,
            )
        geom = src.geometry
    elif len(found) > 1:
        raise InputError(
            f"the table has geometry columns {', '.join(found)}; name one with ?geometry=",
            file=where,
        )
    else:
        [geom] = found
    srid = found[geom]
    if srid == 0:  # a column without a type modifier: the rows say
        q = conn.dialect.identifier_preparer.quote_identifier
        seen = _rows(
            conn,
            f"SELECT DISTINCT ST_SRID({q(geom)}) FROM {q(schema)}.{q(table)} "
            f"WHERE {q(geom)} IS NOT NULL LIMIT 3",
        )
        srids = sorted(int(r[0]) for r in seen)
        if len(srids) > 1:
            raise InputError(
                f"the rows have several SRIDs ({', '.join(map(str, srids))}); one table, "
                "one SRID (ST_Transform them, or read a view)",
                file=where,
                column=geom,
            )
        srid = srids[0] if srids else 0
    return geom, srid


def _crs_of_srid(conn: Connection, srid: int, *, where: str, column: str) -> pyproj.CRS | None:
    """The CRS of a PostGIS SRID, through ``spatial_ref_sys`` (None for SRID 0)."""
    if srid == 0:
        return None
    row = next(
        iter(
            _rows(
                conn,
                "SELECT auth_name, auth_srid, srtext FROM spatial_ref_sys WHERE srid = :s",
                s=srid,
            )
        ),
        None,
    )
    if row is None:
        raise InputError(
            f"SRID {srid} is not in the server's spatial_ref_sys", file=where, column=column
        )
    auth, code, wkt = row
    try:
        if auth and code:
            return pyproj.CRS.from_authority(str(auth), str(code))
        return pyproj.CRS.from_wkt(str(wkt))
    except pyproj.exceptions.CRSError:
        if wkt:
            with contextlib.suppress(pyproj.exceptions.CRSError):
                return pyproj.CRS.from_wkt(str(wkt))
    raise InputError(
        f"SRID {srid} ({auth}:{code}) is not a CRS PROJ knows", file=where, column=column
    )


def _window(
    bbox: Sequence[float],
    *,
    bbox_crs: CRSLike | None,
    crs: pyproj.CRS | None,
    where: str,
) -> tuple[float, float, float, float]:
    try:
        xmin, ymin, xmax, ymax = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"bbox must be (minx, miny, maxx, maxy), not {bbox!r}", file=where
        ) from exc
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)) or xmin > xmax or ymin > ymax:
        raise InputError(f"bbox must be finite (minx, miny, maxx, maxy), not {bbox!r}", file=where)
    if bbox_crs is not None:
        given = pyproj.CRS.from_user_input(bbox_crs)
        if crs is None:
            raise InputError(
                "the table has no SRID, so a bbox in another CRS cannot be placed", file=where
            )
        if not given.equals(crs):
            t = pyproj.Transformer.from_crs(given, crs, always_xy=True)
            xmin, ymin, xmax, ymax = t.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21)
    return xmin, ymin, xmax, ymax


def _column_names(conn: Connection, schema: str, table: str) -> list[str]:
    rows = _rows(
        conn,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = :s AND table_name = :t ORDER BY ordinal_position",
        s=schema,
        t=table,
    )
    return [str(r[0]) for r in rows]


# --------------------------------------------------------------------------- writing


def write_postgis_layer(
    frame: gpd.GeoDataFrame,
    uri: str,
    *,
    if_exists: Literal["fail", "replace"] = "fail",
    layer: str | None = None,
) -> str:
    """Write ``frame`` to the table of ``uri`` atomically; return ``schema.table``.

    The frame goes into a new table under a temporary name, which is renamed onto
    the target (after dropping the old one with ``if_exists="replace"``) in the
    same transaction, with its spatial index. The index is kept as a column (its
    name, else ``index``; an unnamed RangeIndex is left out, as in a GeoParquet
    file) and the geometry gets the SRID of the frame's CRS (its EPSG code).

    Parameters
    ----------
    frame
        The layer; its CRS must have an EPSG code.
    uri
        ``postgresql://user@host:port/db?table=...`` (``schema=`` too).
    if_exists
        ``"fail"``: bad input when the table exists; ``"replace"``: replace it (a
        view, or a table other objects depend on, is never dropped).
    layer
        The table, when the URI has no ``table=``.
    """
    if if_exists not in ("fail", "replace"):
        raise ValueError(f"if_exists must be 'fail' or 'replace', not {if_exists!r}")
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"write_postgis_layer writes a GeoDataFrame, not {type(frame).__name__}")
    src = parse_postgis_uri(uri)
    table = src.table or layer
    if table is None:
        raise InputError("name the table to write with ?table=...", file=src.label)
    where = f"{src.label}: table {src.schema + '.' if src.schema else ''}{table}"
    if frame.crs is None:
        raise InputError("the layer has no CRS, so its geometry would get no SRID", file=where)
    srid = frame.crs.to_epsg()
    if srid is None:
        raise InputError(
            f"the layer's CRS ({frame.crs.name}) has no EPSG code to use as the SRID; "
            "reproject it to one that has",
            file=where,
        )
    keep_index = not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None)
    index_label = str(frame.index.name or "index")
    if keep_index and index_label in frame.columns:
        raise InputError(
            f"the index {index_label!r} is also a column; drop one", file=where, column=index_label
        )
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    temp = f"_geoplan_tmp_{secrets.token_hex(6)}"
    with _connection(src, begin=True) as conn:
        schema = _schema(conn, src)
        where = f"{src.label}: table {schema}.{table}"
        q = conn.dialect.identifier_preparer.quote_identifier
        kind = _relation_kind(conn, schema, table)
        if kind is not None and if_exists == "fail":
            raise InputError("the table exists; replace it with if_exists='replace'", file=where)
        if kind is not None and kind != "BASE TABLE":
            raise InputError(
                f"{schema}.{table} is a {kind.lower()}, not a table to replace", file=where
            )
        try:
            frame.to_postgis(
                temp,
                conn,
                schema=schema,
                index=keep_index,
                index_label=index_label if keep_index else None,
                if_exists="fail",
            )
            if kind is not None:
                conn.execute(text(f"DROP TABLE {q(schema)}.{q(table)}"))
            conn.execute(text(f"ALTER TABLE {q(schema)}.{q(temp)} RENAME TO {q(table)}"))
            for (name,) in _rows(
                conn,
                "SELECT indexname FROM pg_indexes WHERE schemaname = :s AND tablename = :t",
                s=schema,
                t=table,
            ):
                if temp in name:
                    new = str(name).replace(temp, table)
                    conn.execute(text(f"ALTER INDEX {q(schema)}.{q(name)} RENAME TO {q(new)}"))
        except sa_exc.DBAPIError as exc:
            raise InputError(f"cannot write the table: {_reason(exc)}", file=where) from exc
    return f"{schema}.{table}"
