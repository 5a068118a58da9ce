# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import library_interest
from . import library_department
from . import library_major
from . import res_partner
from . import res_config_settings
