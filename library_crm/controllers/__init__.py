from . import portal
from . import mailing
from . import journey
from . import service_rating
