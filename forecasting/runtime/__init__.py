"""The job runtime: engine, scheduling policy, local and Ray workers."""
