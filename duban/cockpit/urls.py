from django.urls import path

from duban.cockpit import screen_views

app_name = "cockpit"
urlpatterns = [
    path("meetings/<int:pk>/screen/", screen_views.meeting_screen, name="screen"),
    path("meetings/<int:pk>/screen/freeze/", screen_views.freeze, name="screen_freeze"),
]
