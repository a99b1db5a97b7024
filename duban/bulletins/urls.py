from django.urls import path

from duban.bulletins import views

app_name = "bulletins"
urlpatterns = [
    path("", views.publications, name="list"),
    path("new/", views.new, name="new"),
    path("brief/<int:meeting>/", views.brief, name="brief"),
    path("<int:pk>/", views.document, name="document"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/issue/", views.issue, name="issue"),
    path("<int:pk>/refresh/", views.refresh, name="refresh"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/correct/", views.correct, name="correct"),
    path("<int:pk>/<str:fmt>/", views.file, name="file"),
]
