"""Preparing series for the networks: time split, scaler, windows, budget."""
