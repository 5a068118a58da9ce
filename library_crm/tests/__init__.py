# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import test_reader
from . import test_department
from . import test_access
from . import test_reader_import
from . import test_ui
from . import test_liaison
from . import test_liaison_http
from . import test_segmentation
from . import test_usage_import
from . import test_suggestion
from . import test_suggestion_http
from . import test_satisfaction
from . import test_satisfaction_http
from . import test_outreach
from . import test_outreach_http
from . import test_consent
from . import test_privacy
