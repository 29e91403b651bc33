"""Tests of the registration statistics (`cjgbot stats`), issue 7."""
