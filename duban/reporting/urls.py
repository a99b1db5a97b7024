from django.urls import path

from duban.reporting import views, views_entry

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
    path("forms/<str:ds>/<str:unit>/<str:period>/autosave/", views_entry.autosave, name="autosave"),
    path(
        "forms/<str:ds>/<str:unit>/<str:period>/history/<str:indicator>/",
        views_entry.figure_history,
        name="history",
    ),
    path(
        "forms/<str:ds>/<str:unit>/<str:period>/<str:action>/", views.transition, name="transition"
    ),
    path("overview/<str:ds>/<str:unit>/<str:period>/", views.overview, name="overview"),
    path("overview/<str:ds>/<str:unit>/<str:period>/remind/", views_entry.remind, name="remind"),
    path("approve/", views_entry.approve_many, name="approve_many"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
]
