# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The service-rating rule was loaded with noupdate: it now only restricts
reading, a second rule restricts changing (readers' ratings of suggestions
too). Let the upgrade load the rule again."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE ir_model_data
           SET noupdate = FALSE
         WHERE module = 'library_crm'
           AND model = 'ir.rule'
           AND name = 'rating_library_interaction_rule'
        """
    )
