# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
# SQL analysis models (_auto = False, read-only views over the data of
# models/); their PDF reports are the XML files next to them.
from . import library_satisfaction_view_mixin
from . import library_satisfaction_answer
from . import library_satisfaction_response
from . import library_contact_timeline
from . import library_mailing_result
from . import library_service_programme_report
from . import library_annual_statistics
