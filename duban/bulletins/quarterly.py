"""The quarterly review (季度点评): written in the next step."""
