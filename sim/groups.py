"""The names of a flow's direction and of the groups results are summed over, in one place.

Every table of results has a row per gate and direction, and rows summed over both directions
(``direction == ALL``), over every gate (``gate == ALL``) and over both (the province). A leaf module
(docs/architecture.md, section 2): the command line names these groups in its options without loading
the schema or the model.
"""

DIRECTIONS = ("export", "import")
ALL = "all"  # every gate, or both directions: the group a summed row belongs to
DIRECTION_CHOICES = (*DIRECTIONS, ALL)  # what a --direction option accepts
