"""The face models load when a Celery worker starts, so no applicant waits for them."""

from celery.signals import worker_init, worker_process_init

from kyc import engine
from kyc.apps import face_models_preload


def test_worker_start_loads_the_face_models_once(monkeypatch):
    monkeypatch.setattr(engine, "_models", None)
    loads = engine.model_loads
    face_models_preload()
    face_models_preload()
    assert engine._models is not None
    assert engine.model_loads == loads + 1


def test_the_preload_runs_on_worker_start_and_in_each_pool_child():
    assert "kyc.face_models_preload" in {key[0] for key, _receiver in worker_init.receivers}
    assert "kyc.face_models_preload_child" in {key[0] for key, _receiver in worker_process_init.receivers}
