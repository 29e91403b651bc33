"""Helpers shared by the test suites (fakes, drivers, recording gateways)."""
