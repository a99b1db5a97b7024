"""Which font sets which part of a document, in Word on an office PC and in our own PDF.

GB/T 9704 names typefaces (小标宋, 仿宋, 黑体, 楷体, 宋体); the fonts of those names (方正小标宋简体,
仿宋_GB2312 …) are licensed and live on the offices' PCs, not on our server. So a DOCX names
the standard's fonts (Word and WPS on the office PC substitute them), while the PDF and the
charts, drawn here, embed free fonts from Debian's packages chosen to stand in for each role.
Every role maps to one font file; the PDF names only these families, so nothing else
(DejaVu …) can slip in as a fallback — the tests check each character against the cmap.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Role = Literal["mark", "title", "body", "bold", "heading1", "heading2", "page_number", "chart"]


@dataclass(frozen=True)
class FontRole:
    """One role: the standard's font (named in the DOCX), the free stand-in for the PDF and
    the charts (a fontconfig pattern and its family/weight in CSS), and its Debian package."""

    role: Role
    standard: str  # the GB/T 9704 typeface
    docx_font: str  # w:rFonts eastAsia, as installed on an office PC
    docx_latin: str  # w:rFonts ascii/hAnsi (digits, Latin)
    family: str  # CSS font-family / fontconfig family of the stand-in
    weight: int  # CSS font-weight of the stand-in
    pattern: str  # fc-match pattern that finds the stand-in's file
    package: str  # the Debian package holding it


SERIF, SANS, KAI = "Noto Serif CJK SC", "Noto Sans CJK SC", "LXGW WenKai"

ROLES: dict[Role, FontRole] = {
    # 小标宋 is a heavy Song: Noto Serif CJK Bold is the heaviest Song in fonts-noto-cjk
    # (Black is in fonts-noto-cjk-extra, not needed).
    "mark": FontRole("mark", "小标宋", "方正小标宋简体", "方正小标宋简体", SERIF, 700,
                     f"{SERIF}:style=Bold", "fonts-noto-cjk"),
    "title": FontRole("title", "小标宋", "方正小标宋简体", "方正小标宋简体", SERIF, 700,
                      f"{SERIF}:style=Bold", "fonts-noto-cjk"),
    # 仿宋 is a light, even Song; Noto Serif CJK Regular is the nearest in fonts-noto-cjk.
    "body": FontRole("body", "仿宋", "仿宋_GB2312", "Times New Roman", SERIF, 400,
                     f"{SERIF}:style=Regular", "fonts-noto-cjk"),
    # Total rows of tables: the body's typeface, bold (the same file as the mark).
    "bold": FontRole("bold", "仿宋", "仿宋_GB2312", "Times New Roman", SERIF, 700,
                     f"{SERIF}:style=Bold", "fonts-noto-cjk"),
    "heading1": FontRole("heading1", "黑体", "黑体", "黑体", SANS, 400,
                         f"{SANS}:style=Regular", "fonts-noto-cjk"),
    # 楷体: 霞鹜文楷 is a free, complete Kai with the GB 2312 set.
    "heading2": FontRole("heading2", "楷体", "楷体_GB2312", "Times New Roman", KAI, 400,
                         f"{KAI}:style=Regular", "fonts-lxgw-wenkai"),
    # Page numbers: 宋体 half-width digits; the dashes are in Noto Serif CJK too.
    "page_number": FontRole("page_number", "宋体", "宋体", "宋体", SERIF, 400,
                            f"{SERIF}:style=Regular", "fonts-noto-cjk"),
    # Charts (the cockpit draws in the system sans): Noto Sans CJK SC.
    "chart": FontRole("chart", "黑体", "黑体", "黑体", SANS, 400,
                      f"{SANS}:style=Regular", "fonts-noto-cjk"),
}  # fmt: skip


class FontMissing(RuntimeError):
    """A role's stand-in font is not installed (``apt-get install <package>``)."""


@functools.cache
def font_file(role: Role) -> tuple[Path, int]:
    """The stand-in's file and face index (Noto CJK come as collections), by fontconfig.

    ``fc-match`` always answers with *some* font; an answer of another family means the
    package is missing, which is refused rather than drawn in DejaVu."""
    spec = ROLES[role]
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        raise FontMissing("fc-match (fontconfig) is not installed")
    out = subprocess.run(
        [fc_match, "--format=%{file}\n%{index}\n%{family}", spec.pattern],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    path, index, families = out[0], out[1], out[2]
    if spec.family not in families.split(","):
        raise FontMissing(f"{spec.family} for {spec.standard}: install {spec.package}")
    return Path(path), int(index or 0)


def css_font(role: Role) -> str:
    """The CSS declarations setting a role's stand-in: one family, no generic fallback."""
    spec = ROLES[role]
    return f'font-family: "{spec.family}"; font-weight: {spec.weight};'
