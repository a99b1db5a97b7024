from django.urls import path

from duban.cockpit import screen_views, views
from duban.evaluation import cache_views

app_name = "cockpit"
urlpatterns = [
    path("", views.home, name="home"),
    path("recompute/<str:code>/", cache_views.recompute, name="recompute"),
    path("meetings/<int:pk>/screen/", screen_views.meeting_screen, name="screen"),
    path("meetings/<int:pk>/screen/freeze/", screen_views.freeze, name="screen_freeze"),
    path("<str:code>/", views.unit, name="unit"),
    path("<str:code>/wall/", views.wall, name="wall"),
]
