import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")
application = get_wsgi_application()


def _heap_freeze() -> None:
    """Load what every request needs, then move the loaded objects out of the garbage collector's view.

    A web process holds about 130,000 long-lived objects (modules, models, URL patterns, translations)
    that are never garbage. Python's full collection walks all of them: every 60 or so profile
    submissions, a pause of tens of milliseconds (about 2 ms per submission on average, measured in
    bench/README.md "Profile submission, third pass"). ``gc.freeze`` leaves them out of every later
    collection; objects made while serving are collected as before.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module now, not on the first request
    gc.collect()
    gc.freeze()


_heap_freeze()
