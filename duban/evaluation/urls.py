from django.urls import path

from duban.evaluation import item_views, line_views, views

app_name = "evaluation"
urlpatterns = [
    path("", views.scheme_list, name="schemes"),
    path("import/", views.scheme_import, name="import"),
    path("schemes/<str:code>/", views.scheme_detail, name="scheme"),
    path("schemes/<str:code>/scheme.yaml", views.scheme_yaml, name="scheme_yaml"),
    path("schemes/<str:code>/scheme.xlsx", views.scheme_xlsx, name="scheme_xlsx"),
    path("schemes/<str:code>/items/<str:item>/edit/", item_views.item_edit, name="item_edit"),
    path(
        "schemes/<str:code>/items/<str:item>/preview/",
        item_views.rule_preview,
        name="rule_preview",
    ),
    path("schemes/<str:code>/publish/", views.scheme_publish, name="publish_scheme"),
    path("schemes/<str:code>/copy/", views.scheme_copy, name="copy"),
    path("schemes/<str:code>/compare/", views.compare, name="compare"),
    path("schemes/<str:code>/scores/", views.scores, name="scores"),
    path("schemes/<str:code>/units/<str:unit>/", views.unit_scores, name="unit"),
    path("schemes/<str:code>/lines/<str:line>/", line_views.line_scores, name="line"),
    path("schemes/<str:code>/reconciliation/", views.reconciliation, name="reconciliation"),
    path("schemes/<str:code>/publications/", views.publish_results, name="publish_results"),
    path("publications/<int:pk>/", views.publication, name="publication"),
    path("publications/<int:pk>/objections/", views.lodge_objection, name="object"),
    path("publications/<int:pk>/refresh/", views.refresh_publication, name="refresh"),
    path("publications/<int:pk>/finalise/", views.finalise, name="finalise"),
    path("publications/<int:pk>/results.<str:fmt>", views.publication_export, name="export"),
    path("objections/<int:pk>/rule/", views.rule_objection, name="rule"),
    path("objections/<int:pk>/evidence/", views.objection_evidence, name="evidence"),
]
