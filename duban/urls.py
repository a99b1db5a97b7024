from django.contrib import admin
from django.urls import include, path

from duban import views
from duban.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("duban.accounts.urls")),
    path("orgs/", include("duban.orgs.urls")),
    path("audit/", include("duban.audit.urls")),
    path("indicators/", include("duban.indicators.urls")),
    path("reporting/", include("duban.reporting.urls")),
    path("evaluation/", include("duban.evaluation.urls")),
    path("tasks/", include("duban.tasks.urls")),
    path("meetings/", include("duban.meetings.urls")),
    path("cockpit/", include("duban.cockpit.urls")),
    path("jobs/", include("duban.jobs.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
