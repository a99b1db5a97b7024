"""The progress page and its fragment: 0 / 12, 5 / 12, done, failed, stuck; owner only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from duban.jobs.models import Job, State
from duban.testing import logged_in, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(tree):
    return make_user("county_reporter", tree.county_a, "reporter")


@pytest.fixture
def job(owner):
    return Job.objects.create(kind="jobs.test.count", label="重算得分", owner=owner, total=12)


def fragment(job: Job, username: str = "county_reporter") -> str:
    r = logged_in(username).get(f"/jobs/{job.pk}/progress/")
    assert r.status_code == 200
    return r.content.decode()


def polls(html: str) -> bool:
    return 'hx-trigger="every 1s"' in html and "hx-get=" in html


def test_queued_at_nought_of_twelve_polls_and_says_it_waits(job) -> None:
    html = fragment(job)
    assert '<progress max="12" value="0">' in html and "0 / 12" in html
    assert "等待开始" in html and polls(html)
    assert "后台任务进程未运行" not in html, "ten seconds have not passed"


def test_running_at_five_of_twelve_shows_the_count_and_the_last_message(job) -> None:
    Job.objects.filter(pk=job.pk).update(state=State.RUNNING, done=5, message="第 5 项")
    html = fragment(Job.objects.get(pk=job.pk))
    assert '<progress max="12" value="5">' in html and "5 / 12" in html
    assert "第 5 项" in html and polls(html)


def test_an_unknown_amount_shows_a_bar_that_only_says_it_works(job) -> None:
    Job.objects.filter(pk=job.pk).update(state=State.RUNNING, total=None, message="正在读取")
    html = fragment(Job.objects.get(pk=job.pk))
    assert "<progress aria-label" in html and "/ " not in html and "正在读取" in html


def test_done_shows_the_link_and_stops_polling(job) -> None:
    Job.objects.filter(pk=job.pk).update(
        state=State.DONE, done=12, outcome_url="/orgs/", outcome_label="打开得分"
    )
    html = fragment(Job.objects.get(pk=job.pk))
    assert '<a class="button" href="/orgs/">打开得分</a>' in html
    assert '<progress max="100" value="100">' in html and "完成" in html
    assert not polls(html), "polling stops at the end"


def test_done_with_a_file_offers_it_and_only_its_owner_downloads_it(
    job, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    job.file.save("x", ContentFile(b"PK..."), save=False)
    job.file_name, job.file_type, job.state = "台账.xlsx", "application/x-test", State.DONE
    job.save()
    html = fragment(job)
    assert f'href="/jobs/{job.pk}/file/"' in html and "下载 台账.xlsx" in html
    r = logged_in("county_reporter").get(f"/jobs/{job.pk}/file/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"PK..."
    assert r["Content-Type"] == "application/x-test" and "attachment" in r["Content-Disposition"]
    make_user("sibling_reporter", None)
    assert logged_in("sibling_reporter").get(f"/jobs/{job.pk}/file/").status_code == 404


def test_failed_with_problems_lists_them_and_offers_to_start_again(job) -> None:
    Job.objects.filter(pk=job.pk).update(
        state=State.FAILED,
        problems=[{"where": "line 7", "message": "不是数字"}],
        error="line 7: 不是数字",
        return_to="/reporting/import/",
    )
    html = fragment(Job.objects.get(pk=job.pk))
    assert "第 7 行" in html and "不是数字" in html and "未作任何更改" in html
    assert 'href="/reporting/import/"' in html and not polls(html)


def test_failed_by_a_crash_shows_the_number_to_give(job) -> None:
    Job.objects.filter(pk=job.pk).update(state=State.FAILED, error=f"出错了 {job.pk}")
    html = fragment(Job.objects.get(pk=job.pk))
    assert f"出错了 {job.pk}" in html and not polls(html)


def test_queued_after_ten_seconds_says_the_worker_is_not_running(job) -> None:
    with time_machine.travel(job.created + timedelta(seconds=11)):
        html = fragment(job)
    assert "后台任务进程未运行" in html and "duban worker" in html
    assert polls(html), "it keeps asking: the work starts as soon as a worker runs"


def test_only_the_owner_opens_a_job(job, tree) -> None:
    make_user("sibling_reporter", tree.county_b, "reporter")
    make_user("prov_office", tree.province, "office")
    for name in ("sibling_reporter", "prov_office"):
        client = logged_in(name)
        for url in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/progress/", f"/jobs/{job.pk}/file/"):
            assert client.get(url).status_code == 404, (name, url)
        assert "重算得分" not in client.get("/jobs/").content.decode()
    page = logged_in("county_reporter").get(f"/jobs/{job.pk}/")
    assert page.status_code == 200 and "重算得分" in page.content.decode()


def test_the_list_shows_ones_recent_work_newest_first(owner) -> None:
    now = timezone.now()
    for i, state in enumerate((State.DONE, State.FAILED, State.RUNNING)):
        Job.objects.create(
            kind="k", label=f"工作{i}", owner=owner, state=state, done=3, total=12,
            created=now + timedelta(minutes=i),
        )  # fmt: skip
    html = logged_in("county_reporter").get("/jobs/").content.decode()
    assert html.index("工作2") < html.index("工作1") < html.index("工作0")
    assert "3 / 12" in html and "失败" in html


def test_signed_out_goes_to_the_login(job, client) -> None:
    assert client.get(f"/jobs/{job.pk}/").status_code == 302
