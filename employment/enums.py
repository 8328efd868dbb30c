from django.db import models
from django.utils.translation import pgettext_lazy


class OutcomeKind(models.TextChoices):
    APPLIED = "applied", pgettext_lazy("job outcome", "Applied")
    INTERVIEWED = "interviewed", pgettext_lazy("job outcome", "Interviewed")
    HIRED = "hired", pgettext_lazy("job outcome", "Hired")
