from django.contrib.auth import views as auth_views
from django.urls import path

from duban.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.language, name="language"),
    path("account/", views.PasswordChangeView.as_view(), name="account"),
    path("account/sign-out-elsewhere/", views.sign_out_elsewhere, name="sign_out_elsewhere"),
    path("members/", views.members_home, name="members_home"),
    path("members/<str:code>/", views.members, name="members"),
]
