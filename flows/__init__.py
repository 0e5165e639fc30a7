"""Prefect flows and tasks, the CLI and configuration loading. Orders steps; holds no logic."""
