"""Executors behind :class:`opsforge.engines.ranconfig.executor.CommandExecutor`."""
