"""Properties of the one JSON reader every API body and JSON file goes through
(`duban.core.json_input.load_json`) and of the text decoder every uploaded text file goes
through (`duban.text.decode_text`): any bytes are a document, or `InputError` in the user's
language naming its place (the body, a JSON path), never another exception; what is read
back is what was written. Bounded, derandomised examples."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from duban.core.json_input import MAX_DEPTH, load_json
from duban.errors import InputError
from duban.text import UndecodableText, decode_text

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, database=None)
CHINESE = re.compile("[\u4e00-\u9fff]")

documents = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


def encoded(doc: object, ascii_only: bool, cut: int | None) -> bytes:
    text = json.dumps(doc, ensure_ascii=ascii_only)
    return text[:cut].encode() if cut is not None else text.encode()


@given(
    st.one_of(
        st.binary(max_size=80),
        st.builds(encoded, documents, st.booleans(), st.none() | st.integers(0, 40)),
    )
)
@PROPERTY
@example(b"[" * 100_000)  # nested past any parser's recursion
@example(b'{"a": NaN}')
@example(b'{"a": "\\u0005"}')
@example(b"\xff\xfe{}")
def test_any_bytes_are_a_document_or_a_refusal_naming_its_place(data: bytes) -> None:
    try:
        doc = load_json(data)
    except InputError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.where, problem
            assert CHINESE.search(problem.message), problem
        return
    assert doc == json.loads(data)  # what it takes, it reads as JSON reads it
    assert load_json(data, parse_float=Decimal) == json.loads(data, parse_float=Decimal)


@given(documents)
@PROPERTY
@example({"\x1f": None})  # a key of control characters only: named by the body that holds it
@example({"a": {"\x05": 1}})
def test_a_document_without_control_characters_reads_back_as_written(doc: object) -> None:
    text = json.dumps(doc)
    try:
        assert load_json(text) == json.loads(text)
    except InputError as exc:  # a control character or a depth past MAX_DEPTH: named by path
        assert "\\u00" in text or "\\u007f" in text or text.count("[") + text.count("{") > MAX_DEPTH
        assert all(p.where for p in exc.problems)


@given(st.text(max_size=40), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
@PROPERTY
def test_text_in_an_encoding_excel_saves_decodes_back(text: str, encoding: str) -> None:
    data = (
        text.encode(encoding, errors="strict") if encoding != "gb18030" else text.encode(encoding)
    )
    decoded = decode_text(data)
    if encoding == "gb18030":  # read as UTF-8 first when its bytes happen to be UTF-8 too
        assert decoded == text or data.decode("utf-8-sig") == decoded
    else:
        assert decoded == text.removeprefix("\ufeff") or decoded == text


@given(st.binary(max_size=60))
@PROPERTY
def test_any_bytes_decode_or_are_refused_naming_a_line(data: bytes) -> None:
    try:
        decode_text(data, "upload.csv")
    except UndecodableText as exc:
        assert 1 <= exc.line <= data.count(b"\n") + 1
        assert CHINESE.search(str(exc)) and "upload.csv" in str(exc)
