"""Project-level pages."""

from duban.orgs.views import home

__all__ = ["home"]
