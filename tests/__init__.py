"""Rådgiver: tests."""
