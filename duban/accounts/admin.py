"""No admin for accounts: they are managed on the account pages, by the security administrator.

Django's groups are not Duban's roles (those are `orgs.Membership`, read by the policy), and
a group has no unit to scope it by, so its admin, registered by django.contrib.auth (listed
before the Duban apps, so autodiscovered first), is taken away.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Group

if admin.site.is_registered(Group):
    admin.site.unregister(Group)
