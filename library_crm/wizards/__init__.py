# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import library_reader_import_error
from . import library_reader_import
from . import library_handover
from . import library_usage_import
from . import library_period_mixin
from . import library_segment_summary
from . import library_suggestion_decision
from . import library_suggestion_amend
from . import library_points_redemption
from . import library_suggestion_register
from . import library_survey_invitation
from . import library_satisfaction_report
from . import base_partner_merge
from . import library_annual_statistics_report
from . import library_reading_report_generate
from . import library_marc_import_error
from . import library_marc_import
