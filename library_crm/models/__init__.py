# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import library_code_mixin
from . import library_interest
from . import library_department
from . import library_major
from . import library_segment_history
from . import library_usage
from . import res_partner
from . import library_segment_followup
from . import library_segmentation
from . import library_interaction
from . import library_research_project
from . import library_liaison_deliverable
from . import library_liaison_review
from . import res_config_settings
from . import library_contact_timeline
