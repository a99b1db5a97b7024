from decimal import Decimal

from duban.reporting import services
from duban.reporting.figures import unit_figures
from duban.periods import parse_period
from duban.reporting.tests.conftest import TODAY


def test_smoke(form, tree, personas):
    r = services.save_form(form.data_set, tree.county_a, "201712", {"case.filed": "10", "case.solved": "7"},
                           user=personas.county_reporter, today=TODAY)
    assert r.created == 2
    figs = unit_figures(form.data_set, tree.county_a, parse_period("201712"))
    assert figs["case.clearance"] == Decimal(70)
