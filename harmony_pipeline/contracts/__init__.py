"""contracts stage."""
