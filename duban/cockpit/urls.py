from django.urls import path

from duban.cockpit import line_views

app_name = "cockpit"
urlpatterns: list = [
    path("lines/", line_views.line_list, name="lines"),
    path("lines/<str:line>/", line_views.line_detail, name="line"),
]
