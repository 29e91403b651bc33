"""The conversation and the handover workflow: pure logic, no I/O."""
