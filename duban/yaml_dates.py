"""YAML dates that exist: shared by the tree files and the scheme files (plain module: the
scoring engine reads scheme files without Django at import)."""

from __future__ import annotations

import yaml

from duban.text import gettext as _


def existing_date(loader: yaml.SafeLoader, node: yaml.nodes.Node) -> object:
    """A date as YAML writes one; a day that does not exist (2020-02-31) is refused where it
    stands (the loader's mark gives line and column), where PyYAML's own constructor raises a
    bare ValueError. Register it for ``tag:yaml.org,2002:timestamp``."""
    assert isinstance(node, yaml.ScalarNode)
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            _("%(value)s is not a date that exists") % {"value": repr(node.value)},
            node.start_mark,
        ) from None
