from django.contrib.auth import views as auth_views
from django.urls import path

from duban.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/code/", views.second_step, name="second_step"),
    path("language/", views.language, name="language"),
    path("account/", views.PasswordChangeView.as_view(), name="account"),
    path("account/sign-out-elsewhere/", views.sign_out_elsewhere, name="sign_out_elsewhere"),
    path("account/second-factor/", views.second_factor_setup, name="second_factor"),
    path("account/second-factor/off/", views.second_factor_off, name="second_factor_off"),
    path("account/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("members/", views.members_home, name="members_home"),
    path("members/<str:code>/", views.members, name="members"),
]
