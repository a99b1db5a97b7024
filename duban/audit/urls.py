from django.urls import path

from duban.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.home, name="home"),
    path("units/<str:code>/", views.unit_history, name="unit"),
]
