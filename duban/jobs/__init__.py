"""Background work that a person waits for: progress, a clear end, run by `duban worker`."""
