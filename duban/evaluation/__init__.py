"""The evaluation baton: schemes, scores, publications (see README.md beside this file)."""

from duban.evaluation.engine import formulas as _formulas
from duban.indicators.formula import evaluation_order as _order
from duban.indicators.formula import parse_formula as _parse

# The engine reads computed indicators in the indicators app's formula language, which the
# import contract does not let it import itself (engine/formulas.py says why).
_formulas.use(_parse, _order)
