from django.urls import path

from duban.records import views

app_name = "records"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/apply/", views.apply, name="apply"),
    path("<int:pk>/refuse/", views.refuse, name="refuse"),
]
