"""Per-step measures of training and of the generated samples, and the frame that carries them."""

from daemon.metrics.frame import TRAINING_STREAMS, MetricFrame
from daemon.metrics.samples import MEASURES, Measure, SampleBatch, measure, measure_batch


def stream_names() -> list[str]:
    """Every stream name a frame carries (frame.streams() keys), for mappings."""
    return [*TRAINING_STREAMS, "progress", *MEASURES, *(f"class_{d}" for d in range(10))]


__all__ = [
    "MEASURES", "TRAINING_STREAMS", "Measure", "MetricFrame", "SampleBatch", "measure", "measure_batch", "stream_names",
]
