from django.urls import path

from duban.meetings import views

app_name = "meetings"
urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_new, name="new"),
    path("<int:pk>/", views.meeting_detail, name="meeting"),
    path("<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("<int:pk>/minutes/", views.minutes, name="minutes"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("decisions/<int:pk>/supervise/", views.supervise_matter, name="supervise"),
    path("cadence/<str:code>/", views.cadence, name="cadence"),
]
