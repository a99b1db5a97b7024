"""The leader's cockpit and the dispatch meeting's wall screen: where a unit stands."""
