"""Words shown from data (statuses, roles, deadline and import kinds), marked for translation."""


def N_(message: str) -> str:  # the conventional marker name for extraction
    return message


VIOLATION_WORDS = [N_("per_entry"), N_("window"), N_("permit_required"), N_("permit_expired"), N_("no_basis")]
STATUS_WORDS = [N_("lawful"), N_("notification_overdue"), N_("overstay"), N_("no_lawful_basis"), N_("not_in_country")]
ROLE_WORDS = [N_("admin"), N_("officer"), N_("host"), N_("analyst"), N_("auditor"), N_("border")]
OTHER_WORDS = [N_("host_notification"), N_("border_events"), N_("notifications"), N_("residence_permits"),
               N_("Bad request"), N_("Not found"), N_("Forbidden"), N_("Unauthorized"), N_("Validation failed"),
               N_("Too many requests"), N_("Conflict"), N_("Kosh")]
