"""Readers and writers for foreign topology formats; each module registers itself in READERS/WRITERS."""
