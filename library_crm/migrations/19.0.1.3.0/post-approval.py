# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Approval rights move from the library managers to the new library
leadership group (馆领导): the existing managers join it, so an upgraded
database keeps its approvers. Existing units get no leader in charge: their
solutions go to any member of the leadership (the documented fallback)
until a manager names one."""

from odoo import SUPERUSER_ID, api
from odoo.fields import Command


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    leadership = env.ref("library_crm.group_library_leadership")
    managers = env.ref("library_crm.group_library_manager").all_user_ids
    missing = managers - leadership.all_user_ids
    if missing:
        leadership.write({"user_ids": [Command.link(user.id) for user in missing]})
