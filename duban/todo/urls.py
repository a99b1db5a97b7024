from django.urls import path

from duban.todo import views

app_name = "todo"
urlpatterns = [path("", views.todo, name="list")]
