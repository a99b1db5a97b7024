"""The HTML fragment: semantic, classes doc-*, no inline style or script (CSP)."""

from __future__ import annotations

import re

from duban.documents import layout as L
from duban.documents.html import print_css, to_html, to_print_html
from duban.documents.model import OfficialDocument


def test_fragment_has_no_inline_style_or_script(
    bulletin: OfficialDocument, images: list[list[bytes]]
) -> None:
    html = to_html(bulletin, images=images)
    assert "style=" not in html and "<script" not in html and "<style" not in html
    assert re.findall(r'class="([^"]+)"', html)
    assert all(
        c.startswith("doc") for cls in re.findall(r'class="([^"]+)"', html) for c in cls.split()
    )


def test_fragment_carries_the_document(
    bulletin: OfficialDocument, images: list[list[bytes]]
) -> None:
    html = to_html(bulletin, images=images, chart_src=lambda n, k, png: f"/charts/{n}/{k}.png")
    assert '<p class="doc-authority doc-mark-360">陕西省公安厅改革办公室</p>' in html
    assert '<p class="doc-number">陕公改办通〔2017〕7号</p>' in html
    assert '<h1 class="doc-title">' in html and '<h2 class="doc-h1">一、总体情况</h2>' in html
    assert '<tr class="doc-total"><td class="doc-num">—</td><td>全省合计</td>' in html
    assert '<td class="doc-num">30.00%</td>' in html
    assert 'src="/charts/1/0.png"' in html
    assert (
        '<p class="doc-signer doc-right-4">' in html and '<p class="doc-date doc-right-9">' in html
    )
    assert "抄送：省公安厅领导" in html and "2017年12月8日印发" in html


def test_print_css_sets_page_margins_and_page_numbers(bulletin: OfficialDocument) -> None:
    css = print_css(bulletin)
    assert "@page { size: A4; margin: 37.0mm 26.0mm 35.0mm 28.0mm; }" in css
    assert '@page :right { @bottom-right { content: "— " counter(page) " —";' in css
    assert "@page :left { @bottom-left {" in css
    assert f"margin-top: {L.MARK_TOP_MM}mm" in css
    # every family named is a role's stand-in: nothing for WeasyPrint to fall back to
    families = set(re.findall(r'font-family: "([^"]+)"', css))
    assert families == {"Noto Serif CJK SC", "Noto Sans CJK SC", "LXGW WenKai"}
    assert "serif;" not in css.replace('font-family: "Noto Serif CJK SC";', "")


def test_a_draft_shows_the_mark_and_no_number() -> None:
    from duban.documents.samples import sample_bulletin

    html = to_print_html(sample_bulletin(draft=True), images=[[], []])
    assert '<p class="doc-draft-mark">草稿</p>' in html
    assert '<p class="doc-number"></p>' in html and "陕公改办通" not in html
