from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from duban import views
from duban.api import api

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico on every page that names no icon: answer, never a 404.
    path("favicon.ico", RedirectView.as_view(url=static("duban/favicon.svg"), permanent=True)),
    path("accounts/", include("duban.accounts.urls")),
    path("orgs/", include("duban.orgs.urls")),
    path("audit/", include("duban.audit.urls")),
    path("indicators/", include("duban.indicators.urls")),
    path("reporting/", include("duban.reporting.urls")),
    path("records/", include("duban.records.urls")),
    path("evaluation/", include("duban.evaluation.urls")),
    path("tasks/", include("duban.tasks.urls")),
    path("meetings/", include("duban.meetings.urls")),
    path("bulletins/", include("duban.bulletins.urls")),
    path("todo/", include("duban.todo.urls")),
    path("cockpit/", include("duban.cockpit.urls")),
    path("jobs/", include("duban.jobs.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
