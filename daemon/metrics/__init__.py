"""Per-step measures of training and of the generated samples, and the frame that carries them.

The sample measures (torch) load on first use, so the processes that only carry frames — the
supervisor, sound and image — never import torch.
"""

from daemon.metrics.frame import SAMPLE_STREAMS, TRAINING_STREAMS, VECTOR_STREAMS, MetricFrame, stream_names

_SAMPLES = ("MEASURES", "Measure", "SampleBatch", "measure", "measure_batch")


def __getattr__(name: str):
    if name in _SAMPLES:
        from daemon.metrics import samples

        return getattr(samples, name)
    raise AttributeError(f"module 'daemon.metrics' has no attribute {name!r}")


__all__ = [
    "MEASURES",
    "SAMPLE_STREAMS",
    "TRAINING_STREAMS",
    "VECTOR_STREAMS",
    "Measure",
    "MetricFrame",
    "SampleBatch",
    "measure",
    "measure_batch",
    "stream_names",
]
