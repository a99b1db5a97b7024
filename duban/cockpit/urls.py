from django.urls import path

from duban.cockpit import line_views, screen_views

app_name = "cockpit"
urlpatterns = [
    path("lines/", line_views.line_list, name="lines"),
    path("lines/<str:line>/", line_views.line_detail, name="line"),
    path("meetings/<int:pk>/screen/", screen_views.meeting_screen, name="screen"),
    path("meetings/<int:pk>/screen/freeze/", screen_views.freeze, name="screen_freeze"),
]
