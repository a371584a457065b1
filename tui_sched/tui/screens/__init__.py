"""Screens: the main screen, task detail, confirmations, help and load errors."""
