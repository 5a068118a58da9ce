# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Who may call a public method. Any logged-in user can call any public
method over JSON-RPC with any ids and any context, so a method that does
work checks the caller's group itself: the view's `groups=` only hides a
button, and no context key grants a right."""

from odoo.exceptions import AccessError

LIBRARIAN_GROUP = "library_crm.group_library_librarian"
MANAGER_GROUP = "library_crm.group_library_manager"
# Approval rights (馆领导), apart from configuration rights (the managers).
LEADER_GROUP = "library_crm.group_library_leadership"


def check_librarian(env):
    """Library staff only (librarians and managers). Server code running as
    superuser (crons, controllers after their own check) passes."""
    if not env.su and not env.user.has_group(LIBRARIAN_GROUP):
        raise AccessError(env._("Only library staff can do this."))


def check_manager(env):
    """Library managers only."""
    if not env.su and not env.user.has_group(MANAGER_GROUP):
        raise AccessError(env._("Only library managers can do this."))


def is_manager(env):
    return env.su or env.user.has_group(MANAGER_GROUP)


def check_leader(env):
    """Library leadership (馆领导) only: the approval rights, which a library
    manager (configuration) does not have by being a manager."""
    if not env.su and not env.user.has_group(LEADER_GROUP):
        raise AccessError(env._("Only the library leadership can do this."))


def is_leader(env):
    return env.su or env.user.has_group(LEADER_GROUP)


def check_no_chatter_rating(env, kwargs):
    """message_post(rating_value=..., rating_id=...) is public and makes or
    consumes a rating: the library's readers rate through their own link
    only (the rating route applies it as superuser), so no caller posts a
    rating on a suggestion or a service through the chatter."""
    if not env.su and (kwargs.get("rating_value") or kwargs.get("rating_id")):
        raise AccessError(env._("A reader rates through the link they received."))


def check_rating_token_reader(records):
    """A reader's rating token (their rating link) is rendered for the
    server's own mails (superuser) and for the rated reader only: never for
    staff, who would rate in the reader's name (a template opened in a
    composer renders it for whoever opens it)."""
    env = records.env
    if env.su:
        return
    for record in records:
        if record.sudo().partner_id != env.user.partner_id:
            raise AccessError(env._("Only the reader receives their rating link."))
