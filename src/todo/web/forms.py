"""What each of the web UI's forms sends, as models: every handler reads its form one way, through
FastAPI's form models (an empty field takes its default, a field sent several times is a list)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from pydantic import BaseModel

from todo.web.series_form import SeriesForm

# The reminder leads a person can tick, on a task and as their defaults
REMINDER_LEADS = (
    (10080, "1 week before"),
    (1440, "1 day before"),
    (60, "1 hour before"),
    (15, "15 minutes before"),
    (0, "at the due time"),
)


class Confirm(BaseModel):
    """A button that only does what it says (complete, delete, sign out): nothing but the CSRF token."""

    csrf_token: str = ""


class Credentials(Confirm):
    email: str = ""
    password: str = ""
    timezone: str = "UTC"  # sign-up only
    next: str = ""  # sign-in only: the page that sent the browser here


class NewTask(Confirm):
    title: str = ""
    due: str = ""  # datetime-local: wall time in the user's zone
    priority: int = 2
    tags: str = ""  # comma-separated
    project_id: str = ""  # empty: the Inbox


class QuickText(Confirm):
    text: str = ""  # the new-task box, as typed: read by the API's quick add


class TicksLeads(Confirm):
    reminder_minutes: list[str] = []  # the ticked boxes of REMINDER_LEADS

    def leads(self) -> list[int]:
        return sorted({int(m) for m in self.reminder_minutes if m.isdigit()}, reverse=True)


class TaskChanges(TicksLeads):
    title: str = ""
    description: str = ""
    due: str = ""
    priority: str = ""  # passed on as typed when not a number: the API names the field
    tags: str = ""
    follows_defaults: str = ""  # "yes" when the task followed the user's default leads


class Snooze(Confirm):
    when: str = "10"  # minutes from now, or `at:<instant>` (present.snooze_choices)

    def as_api(self) -> dict[str, object]:
        if self.when.startswith("at:"):
            return {"until": self.when.removeprefix("at:")}
        return {"minutes": self.when}  # the API refuses what is not a number of minutes


class SeriesFields(SeriesForm, Confirm):
    """The recurring-series form as sent: `series_form.SeriesForm` and the CSRF token."""


class Profile(TicksLeads):
    display_name: str = ""
    timezone: str = ""
    quiet_from: str = ""  # time inputs, HH:MM; both empty: no quiet hours
    quiet_until: str = ""

    def quiet_hours(self) -> dict[str, str] | None:
        """As the API takes them; one of the two left empty is sent as such, for the API to refuse."""
        if not (self.quiet_from or self.quiet_until):
            return None
        return {"start": self.quiet_from, "end": self.quiet_until}


class NewPassword(Confirm):
    current_password: str = ""
    new_password: str = ""


class NewChannel(Confirm):
    label: str = ""
    url: str = ""


class ChecklistEntry(Confirm):
    text: str = ""
    done: str = ""  # "true" or "false": the item's box, as the button sets it


class NewApiToken(Confirm):
    name: str = ""
    scope: str = "read"


class NewWebhook(Confirm):
    url: str = ""
    events: list[str] = []  # the ticked boxes


class Move(Confirm):
    direction: str = "up"  # or "down"


class ProjectFields(Confirm):
    name: str = ""
    color: str = "#4f7cac"


class Share(Confirm):
    email: str = ""
    role: str = "editor"


ConfirmForm = Annotated[Confirm, Form()]
CredentialsForm = Annotated[Credentials, Form()]
NewTaskForm = Annotated[NewTask, Form()]
QuickTextForm = Annotated[QuickText, Form()]
TaskChangesForm = Annotated[TaskChanges, Form()]
SnoozeForm = Annotated[Snooze, Form()]
SeriesFieldsForm = Annotated[SeriesFields, Form()]
ProfileForm = Annotated[Profile, Form()]
NewPasswordForm = Annotated[NewPassword, Form()]
NewChannelForm = Annotated[NewChannel, Form()]
ProjectFieldsForm = Annotated[ProjectFields, Form()]
ChecklistEntryForm = Annotated[ChecklistEntry, Form()]
NewApiTokenForm = Annotated[NewApiToken, Form()]
NewWebhookForm = Annotated[NewWebhook, Form()]
ShareForm = Annotated[Share, Form()]
MoveForm = Annotated[Move, Form()]
