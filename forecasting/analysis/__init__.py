"""Comparisons and the teaching lab's analyses, from fitted forecasters."""
