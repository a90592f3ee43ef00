"""A run's life: preset → trainer → pacing → recording → frames, with its log events."""

from __future__ import annotations

import math
import pickle
import secrets
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from pathlib import Path

import torch

from daemon.config import LoadedConfig
from daemon.gan.classifier import DigitClassifier, load_classifier, train_classifier
from daemon.gan.dataset import MnistImages, ensure_mnist, load_images
from daemon.gan.device import select_device
from daemon.gan.pacing import PLAN_AFTER_STEPS, Pacer, pacing_law
from daemon.gan.trainer import GanTrainer, RunSpec
from daemon.logs import get_logger
from daemon.metrics import MetricFrame
from daemon.recording.prune import prune
from daemon.recording.recorder import Recorder

__all__ = ["Instrument", "LiveRun", "ensure_classifier", "new_run_id"]


def new_run_id(preset_name: str, seed: int, root: Path) -> str:
    """UTC start time first, so run folders sort chronologically."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S.") + f"{now.microsecond // 1000:03d}Z"
    base = f"{stamp}-{preset_name}-s{seed}"
    run_id, n = base, 1
    while (root / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def ensure_classifier(loaded: LoadedConfig, device: torch.device, progress=None) -> DigitClassifier:
    """The cached judging classifier, trained first (a minute or two) when there is none yet."""
    log = get_logger("classifier")
    path = loaded.classifier_path
    if path.is_file():
        try:
            model, accuracy = load_classifier(path, device)
            log.debug("classifier_loaded", path=str(path), test_accuracy=accuracy)
            return model
        except (ValueError, RuntimeError, OSError, pickle.UnpicklingError) as exc:
            log.warning("classifier_cache_unusable", path=str(path), error=str(exc), action="retraining")
    log.info("classifier_training", path=str(path), note="once, about a minute or two on CPU")
    train = load_images(loaded.mnist_path, train=True, device=device)
    test = load_images(loaded.mnist_path, train=False, device=device)
    accuracy = train_classifier(train, test, path, progress=progress)
    log.info("classifier_trained", path=str(path), test_accuracy=round(accuracy, 4))
    return load_classifier(path, device)[0]


def _mnist_train_images(loaded: LoadedConfig, device: torch.device) -> MnistImages:
    """MNIST's training images; downloaded first when missing and [data] download allows it."""
    ensure_mnist(loaded)
    return load_images(loaded.mnist_path, train=True, device=device)


class Instrument:
    """What every run shares: the config, the device, MNIST in memory and the classifier."""

    def __init__(self, loaded: LoadedConfig, progress: Callable[[int, int], None] | None = None):
        """`progress(done, total)` is called while the classifier trains (a first start): a sign of life."""
        compute = loaded.config.compute
        self.loaded = loaded
        self.device = select_device(compute.device, compute.cpu_threads)
        self.data = _mnist_train_images(loaded, self.device)
        self.classifier = ensure_classifier(loaded, self.device, progress)

    def start(
        self,
        preset_name: str,
        seed: int | None = None,
        steps: int | None = None,
        flat_out: bool = False,
        duration_seconds: float | None = None,
        wait: Callable[[float], None] = time.sleep,
        asked_at: float | None = None,
    ) -> LiveRun:
        """A run of the preset, paced to fill its duration (or `duration_seconds`: a schedule slot, an override).

        `wait(seconds)` holds a paced step; one that returns early (the run is to end) lets it go at once.
        `asked_at` (time.monotonic()) is when the run was asked for: its time counts from then, so
        building the models does not push its end past its slot's.
        """
        config = self.loaded.config
        preset = config.runs[preset_name]
        seed = seed if seed is not None else (preset.seed or secrets.randbelow(2**31 - 2) + 1)
        root = self.loaded.recordings_path
        root.mkdir(parents=True, exist_ok=True)
        spec = RunSpec(new_run_id(preset_name, seed, root), preset_name, preset, seed, steps or preset.steps)
        trainer = GanTrainer(spec, self.data, self.device, config.streams, self.classifier)
        # Scale the duration with a shortened run, so --steps keeps the preset's pace.
        duration = duration_seconds or preset.duration_seconds * spec.steps / preset.steps
        law = pacing_law(preset.pacing, preset.pacing_exponent)
        pacer = None if flat_out else Pacer(duration, spec.steps, sleep=wait, law=law, start=asked_at)
        return LiveRun(spec, trainer, Recorder(root, spec, str(self.device)), pacer, self.loaded)


class LiveRun:
    """A training run as a FrameSource: iterate it to train; every frame is recorded first."""

    def __init__(self, spec: RunSpec, trainer: GanTrainer, recorder: Recorder, pacer: Pacer | None, loaded):
        self.spec, self.trainer, self.recorder, self.pacer, self.loaded = spec, trainer, recorder, pacer, loaded
        self.log = get_logger("trainer", run_id=spec.run_id, preset=spec.preset_name)
        self.ending_status = "stopped"  # what a run closed early is recorded as; see interrupt()

    def interrupt(self) -> None:
        """The run is closed because its installation died (not stopped by anyone): record it `interrupted`."""
        self.ending_status = "interrupted"

    @property
    def folder(self) -> Path:
        return self.recorder.folder

    def __iter__(self) -> Generator[MetricFrame, None, None]:  # closed early to stop a run
        every = self.loaded.config.logging.streams_every_seconds
        self.log.info(
            "run_started",
            seed=self.spec.seed,
            steps=self.spec.steps,
            device=str(self.trainer.device),
            paced=self.pacer is not None,
            recording=str(self.folder),
        )
        status, last_log = "failed", time.monotonic()
        try:
            while self.trainer.step_count < self.trainer.steps_total:
                if self.pacer:
                    self.pacer.before_step()
                frame = self.trainer.step()
                if self.pacer:
                    self._follow_plan(self.pacer)
                self.recorder.on_frame(frame)
                if every and time.monotonic() - last_log >= every:
                    last_log = time.monotonic()
                    self.log.info("run_streams", step=frame.step, **_rounded(frame.streams()))
                yield frame
            status = "completed"
        except GeneratorExit:
            status = self.ending_status
            raise
        finally:
            self._end(status)

    def pace(self) -> dict:
        """The plan against the machine, for the trainer's heartbeat (`status` shows it): empty when flat out."""
        pacer = self.pacer
        if pacer is None:
            return {}
        return {
            "run_id": self.spec.run_id,
            "pacing": pacer.law.kind,
            "seconds": round(pacer.duration_seconds, 1),
            "preset_steps": pacer.preset_steps,
            "planned_steps": pacer.steps,
            "planned_steps_per_second": round(pacer.planned_steps_per_second, 2),
            "measured_steps_per_second": _finite(pacer.machine_steps_per_second),
            "fitted": pacer.fitted,
            "replans": pacer.replans,
        }

    def _follow_plan(self, pacer: Pacer) -> None:
        """After a paced step: take the pacer's plan (fitted to the machine) and say what it is."""
        replans = pacer.replans
        pacer.after_step()
        if pacer.done != PLAN_AFTER_STEPS and pacer.replans == replans:
            return  # the plan stands: nothing to take or say
        self.trainer.steps_total = pacer.steps
        self.recorder.planned(pacer.steps)
        numbers = {
            "machine_steps_per_second": round(pacer.machine_steps_per_second, 2),
            "preset_steps_per_second": round(pacer.preset_steps_per_second, 2),
            "preset_steps": pacer.preset_steps,
            "planned_steps": pacer.steps,
            "seconds": round(pacer.duration_seconds, 1),
        }
        if pacer.done == PLAN_AFTER_STEPS:
            if pacer.fitted:
                self.log.warning(
                    "run_slower_than_preset",
                    **numbers,
                    projected_seconds=round(pacer.projected_seconds),
                    fix="lower the preset's steps, raise duration_seconds, or give training more threads",
                )
            else:
                self.log.info("run_paced", **numbers, pacing=pacer.law.kind)
        else:
            self.log.info("run_replanned", step=pacer.done, **numbers)

    def _end(self, status: str) -> None:
        summary = self.recorder.close(status)
        data = self.loaded.config.data
        prune(
            self.loaded.recordings_path,
            data.keep_recordings_count,
            data.keep_recordings_megabytes,
            protect=self.spec.run_id,
        )
        seconds = (summary["ended_unix_seconds"] or 0) - summary["started_unix_seconds"]
        self.log.info(
            "run_ended",
            status=status,
            steps_done=summary["steps_done"],
            seconds=round(seconds, 1),
            **_rounded(summary["last_streams"]),
        )


def _finite(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None


def _rounded(streams: dict) -> dict:
    return {k: round(v, 4) for k, v in streams.items() if isinstance(v, float) and v == v}
