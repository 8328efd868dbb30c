"""The oversight demo: complaints in every queue state and a dashboard with numbers from the start."""

import io

import pytest
from django.core.management import call_command

from oversight import summary
from oversight.models import Complaint

pytestmark = pytest.mark.django_db


def test_demo_has_complaints_and_a_computed_summary(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    assert sorted(Complaint.objects.values_list("status", "priority")) == [
        ("open", False),
        ("open", True),
        ("waiting", False),
    ]
    funnel = summary.summary_table("funnel", group="")[""]
    assert funnel["participant"] >= 12 and funnel["incentive_paid"] >= 1
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    assert Complaint.objects.count() == 3
