# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import library_interest
from . import library_department
from . import library_major
from . import res_partner
from . import library_interaction
from . import library_research_project
from . import library_liaison_deliverable
from . import library_liaison_review
from . import res_config_settings
from . import library_contact_timeline
