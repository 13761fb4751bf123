"""The HTTP server: application, settings, container, errors and command line."""
