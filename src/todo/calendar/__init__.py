"""A private iCalendar feed of a user's open tasks and series, for calendar apps to subscribe to."""
