"""The findings written a slice at a time: the same text as in one piece.

:func:`geoplan.audit._export.json_pieces` must give what ``json.dumps`` of the records
gives, and :func:`geoplan.audit._export.csv_pieces` what ``write_csv`` writes, for
every kind of column a finding may hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geoplan.audit import _export
from geoplan.audit._export import csv_pieces, json_pieces, records
from geoplan.audit.results import AuditResult, save_result
from geoplan.io.write import write_csv

N = 23


def _frame() -> pd.DataFrame:
    """Every kind of column, missing values, and text the CSV must quote."""
    rng = np.random.default_rng(0)
    floats = rng.normal(size=N) * 10.0 ** rng.integers(-9, 17, size=N)
    floats[:8] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-7, 0.1 + 0.2, 15339365.0]
    words = ["甲", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "", " pad ", "50%", "nul\x00"]
    mixed: list[object] = [
        "x",
        None,
        np.nan,
        1,
        2.5,
        True,
        np.float64(0.1) + 0.2,
        np.int64(7),
        np.bool_(False),
        pd.NA,
        [1, "b", {"c": None}],
        {"k": [0.5, float("inf")], "a": (1, 2)},
        float("inf"),
        pd.Timestamp("2024-01-01"),
        "a,b",
        [],
        {},
    ]
    return pd.DataFrame(
        {
            "value": floats,
            "f32": floats.astype(np.float32),
            "passed": rng.random(N) > 0.5,
            "count": rng.integers(-5, 5, size=N),
            "check_id": ["walk_x"] * (N - 1) + ["walk_y"],
            "text": pd.Series([words[i % len(words)] for i in range(N)], dtype="str"),
            "maybe": pd.Series(
                [None if i % 3 else words[i % len(words)] for i in range(N)], dtype=object
            ),
            "nan_or_text": pd.Series([np.nan if i % 2 else "t" for i in range(N)], dtype=object),
            "mixed": [mixed[i % len(mixed)] for i in range(N)],
            "const": [np.nan] * N,
            'key %s "q"': ["k"] * N,
            "文本": [f"第{i}条" for i in range(N)],
        },
        index=pd.Index([f"c{i}" for i in range(N)], name="entity_id"),
    )


def _dumped(head: dict[str, object], frame: pd.DataFrame, indent: int | None) -> str:
    whole = {**head, "findings": records(frame)}
    return json.dumps(whole, ensure_ascii=False, indent=indent, sort_keys=True)


@pytest.mark.parametrize("rows", [1, 4, 1000])
@pytest.mark.parametrize("indent", [2, 1, 4, 0, None])
def test_json_pieces_are_json_dumps(
    monkeypatch: pytest.MonkeyPatch, rows: int, indent: int | None
) -> None:
    monkeypatch.setattr(_export, "SLICE_ROWS", rows)
    frame = _frame().reset_index()
    head = {"audit": "coverage", "passed": False, "summary": {"findings": [], "n": 1.5}}
    pieces = list(json_pieces(head, "findings", frame, indent=indent))
    assert "".join(pieces) == _dumped(head, frame, indent)
    if indent and rows < len(frame):
        assert len(pieces) > 2  # streamed, not one string


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"a": pd.Series([], dtype=float)}),
        pd.DataFrame(index=range(3)),
        pd.DataFrame({"a": [1.0], "b": pd.Categorical(["x"]), "c": pd.array([True], "boolean")}),
    ],
    ids=["empty", "no-columns", "extension-types"],
)
def test_json_pieces_of_any_frame(frame: pd.DataFrame) -> None:
    head: dict[str, object] = {"audit": "x"}
    assert "".join(json_pieces(head, "findings", frame)) == _dumped(head, frame, 2)


def _csv_bytes(frame: pd.DataFrame, tmp_path: Path) -> bytes:
    return write_csv(tmp_path / "old.csv", frame).read_bytes()


@pytest.mark.parametrize("rows", [1, 5, 1000])
def test_csv_pieces_are_write_csv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, rows: int
) -> None:
    monkeypatch.setattr(_export, "SLICE_ROWS", rows)
    frame = _frame()
    for each in (frame, frame.reset_index(drop=True), frame.rename_axis(None)):
        pieces = csv_pieces(each)
        assert pieces is not None
        text = "".join(pieces)
        assert ("\ufeff" + text).encode("utf-8") == _csv_bytes(each, tmp_path)


def test_csv_pieces_decline_what_they_do_not_write(tmp_path: Path) -> None:
    assert csv_pieces(pd.DataFrame({"a": pd.Categorical(["x"])})) is None
    assert csv_pieces(pd.DataFrame({"a": pd.array([1, None], "Int64")})) is None
    assert csv_pieces(pd.DataFrame([[1, 2]], columns=["a", "a"])) is None
    assert csv_pieces(pd.DataFrame({1: [1.0]})) is None
    empty = pd.DataFrame({"a": pd.Series([], dtype=float)}, index=pd.Index([], name="id"))
    assert ("\ufeff" + "".join(csv_pieces(empty) or [])).encode() == _csv_bytes(empty, tmp_path)


def test_save_result_writes_what_it_wrote_in_one_piece(tmp_path: Path) -> None:
    findings = _frame().reset_index()
    findings["text_zh"] = "事实"
    findings["text_en"] = "fact"
    result = AuditResult("coverage", pd.DataFrame({"a": [1]}), findings, {"n": 1}, "p")
    save_result(result, tmp_path, formats=[])
    text = (tmp_path / "coverage.json").read_text(encoding="utf-8")
    assert text == json.dumps(result.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    written = (tmp_path / "coverage_findings.csv").read_bytes()
    assert written == _csv_bytes(findings.set_index("entity_id"), tmp_path)
