"""The monthly bulletin (月度通报): written in the next step."""
