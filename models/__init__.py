"""Models, one module per aggregate. Importing this package registers every table."""
from models.regions import Grid, Town  # noqa: F401
from models.organisations import Bureau  # noqa: F401
from models.enterprise_types import EnterpriseType  # noqa: F401
from models.enterprises import Enterprise  # noqa: F401
from models.staff import Staff  # noqa: F401
from models.users import SentinelUser  # noqa: F401
from models.audit import AuditLog  # noqa: F401
from models.security_events import SecurityEvent  # noqa: F401
from models.notify import Message  # noqa: F401
from models.jobs import JobRecord  # noqa: F401
from models.health import FeedBatch, HealthSummary, SamplingDaily, SamplingRecord, VaccinationRecord  # noqa: F401
from models.vaccines import VaccineProduct  # noqa: F401
from models.review import ReviewStep  # noqa: F401
from models.rules import AlertSetting, ComplianceResult, RuleRun  # noqa: F401
from models.drivers import Booking, BookingImage, CheckpointRecipients, CheckpointSummaryRun, Pass, Passenger  # noqa: F401
