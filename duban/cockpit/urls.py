from django.urls import path

from duban.cockpit import views
from duban.evaluation import cache_views

app_name = "cockpit"
urlpatterns = [
    path("", views.home, name="home"),
    path("recompute/<str:code>/", cache_views.recompute, name="recompute"),
    path("<str:code>/", views.unit, name="unit"),
    path("<str:code>/wall/", views.wall, name="wall"),
]
