"""todo: an event-driven task platform."""

__version__ = "0.1.0"
