"""Runtime shared by every wellstream service: settings, logging, metrics, clients, health."""
