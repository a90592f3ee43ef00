"""Keeping the installation up: child processes for trainer, sound and image, heartbeats, restarts, systemd."""
