"""Shipped data (topologies, traces, scenarios), installed as package data."""
