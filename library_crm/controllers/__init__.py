from . import portal
from . import mailing
from . import journey
