from django.urls import path

from duban.cockpit import line_views, screen_views, views
from duban.evaluation import cache_views

app_name = "cockpit"
urlpatterns = [
    path("", views.home, name="home"),
    path("recompute/<str:code>/", cache_views.recompute, name="recompute"),
    path("lines/", line_views.line_list, name="lines"),
    path("lines/<str:line>/", line_views.line_detail, name="line"),
    path("meetings/<int:pk>/screen/", screen_views.meeting_screen, name="screen"),
    path("meetings/<int:pk>/screen/freeze/", screen_views.freeze, name="screen_freeze"),
    # A unit's code last: "lines", "meetings" and "recompute" are words, not units.
    path("<str:code>/", views.unit, name="unit"),
    path("<str:code>/wall/", views.wall, name="wall"),
]
