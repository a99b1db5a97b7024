from django.urls import path

from duban.reporting import views

app_name = "reporting"
urlpatterns = [
    path("", views.index, name="index"),
    path("import/", views.import_values, name="import"),
    path("export/", views.export_values, name="export"),
    path("datasets/<str:code>/", views.data_set, name="data_set"),
    path("forms/<str:ds>/<str:unit>/<str:period>/", views.form, name="form"),
    path("forms/<str:ds>/<str:unit>/<str:period>/template.xlsx", views.template, name="template"),
    path("forms/<str:ds>/<str:unit>/<str:period>/upload/", views.upload, name="upload"),
    path(
        "forms/<str:ds>/<str:unit>/<str:period>/evidence/",
        views.evidence_upload,
        name="evidence_upload",
    ),
    path(
        "forms/<str:ds>/<str:unit>/<str:period>/<str:action>/", views.transition, name="transition"
    ),
    path("overview/<str:ds>/<str:unit>/<str:period>/", views.overview, name="overview"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
]
