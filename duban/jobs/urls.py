from django.urls import path

from duban.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("<uuid:job_id>/", views.job, name="job"),
    path("<uuid:job_id>/progress/", views.progress, name="progress"),
    path("<uuid:job_id>/file/", views.file, name="file"),
]
