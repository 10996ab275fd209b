import pytest


@pytest.fixture(scope='module')
def landmarker():
    """One face mesh per test module (built on first use)."""
    from mmakm.preprocessing import FaceLandmarker
    lm = FaceLandmarker()
    yield lm
    lm.close()
