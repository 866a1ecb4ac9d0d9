"""The simulation engine: replay, failures, congestion, metrics."""
