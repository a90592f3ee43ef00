"""Per-step measures of training and of the generated samples, and the frame that carries them."""

from daemon.metrics.frame import TRAINING_STREAMS, MetricFrame
from daemon.metrics.samples import MEASURES, Measure, SampleBatch, measure, measure_batch

__all__ = ["MEASURES", "TRAINING_STREAMS", "Measure", "MetricFrame", "SampleBatch", "measure", "measure_batch"]
