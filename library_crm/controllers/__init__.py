from . import portal
from . import mailing
