"""Notifications: turns events into branded email, sent through SMTP."""
