from django.urls import path

from duban.indicators import views

app_name = "indicators"
urlpatterns = [
    path("", views.indicator_list, name="list"),
    path("new/<str:unit>/", views.indicator_new, name="new"),
    path("datasets/<str:code>/", views.data_set_detail, name="data_set"),
    path("<str:code>/", views.indicator_detail, name="detail"),
    path("<str:code>/edit/", views.indicator_edit, name="edit"),
]
