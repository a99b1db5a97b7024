from django.contrib.admin.apps import AdminConfig


class DubanAdminConfig(AdminConfig):
    """The admin, with a site that asks the access policy instead of is_staff."""

    default_site = "duban.admin.DubanAdminSite"
