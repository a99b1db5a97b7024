from django.urls import path

from duban.orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("import/", views.tree_import, name="import"),
    path("units/<str:code>/", views.unit_detail, name="unit"),
    path("units/<str:code>/children/", views.children, name="children"),
    path("units/<str:code>/edit/", views.unit_edit, name="edit"),
    path("units/<str:code>/add/", views.unit_add_child, name="add_child"),
    path("units/<str:code>/move/", views.unit_move, name="move"),
]
