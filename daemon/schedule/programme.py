"""Deciding, pass by pass, what the trainer plays: the plan's slot, an override, a pause, or nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from daemon.config import LoadedConfig
from daemon.logs import get_logger
from daemon.messages import Crossfade, Fade, Message, Pause, Play, Resume, RunStatus, StopRun
from daemon.recording.files import write_atomic
from daemon.schedule.plan import Plan
from daemon.sound.trim import Trims, check_trim

__all__ = ["Programme", "Want"]

FAILURE_BACKOFF_MAX_SECONDS = 60.0
SHORT_FADE_SECONDS = 1.0
# A run finishes a step's length before its slot ends (pacing fills the time it was given): do not
# start another of the same slot for what is left (less than this, or than half a short preset's
# length); the senses hold until the next slot's run.
LEAST_RUN_SECONDS = 10.0
EXPECT_OUTPUT_AFTER_SECONDS = 5.0  # a fade-in from dark is past its quietest part by then


@dataclass(frozen=True)
class Want:
    """What should play now: `key` tells one wanted run from the next."""

    key: str
    preset: str
    end: datetime
    fade_in: float
    fade_out: float
    closes: bool = False  # it ends at closing time: its fade-out happens even while paused


class Programme:
    """Drives the trainer and the senses' fades from the plan, overrides and pauses.

    `send_trainer` / `send_senses` deliver messages; `tick(now)` is called every pass of the
    supervisor's loop, `on_*` when the trainer reports. Overrides and the pause are kept in
    `state_path` (written atomically) so a restart honours them; the plan needs no state.
    With `runs` (the --runs option), the cycle is played that many times from its first preset,
    back to back, ignoring the hours and overrides, and `finished` turns true at the end. With
    `ignore_hours` (the --preview option) the cycle plays back to back for as long as it runs,
    overrides honoured.
    """

    def __init__(
        self,
        loaded: LoadedConfig,
        send_trainer: Callable[[Message], None],
        send_senses: Callable[[Fade | Crossfade], None],
        state_path: Path,
        runs: int | None = None,
        ignore_hours: bool = False,
    ):
        config = loaded.config
        self.plan = Plan(config.cycle, config.hours, config.runs)
        self.config, self.send_trainer, self.send_senses = config, send_trainer, send_senses
        self.state_path, self.runs_left, self.ignore_hours = state_path, runs, ignore_hours
        self.log = get_logger("schedule")
        self.trainer_idle = False
        self.playing: Want | None = None
        # Its run has completed before its slot ended (a run is paced to end just before): the slot
        # still plays, the senses holding the last step, until it ends.
        self.completed_early = False
        self.stopping_run = self.fading_out = False
        self.dark = True
        self.lit = False  # the senses' level is up (last told to fade to 1, not since to 0)
        self.lit_since = datetime.max.replace(tzinfo=UTC)
        self.now = datetime.min.replace(tzinfo=UTC)  # the pass in progress
        self.failures, self.retry_at = 0, datetime.min.replace(tzinfo=UTC)
        self.runs_started = 0
        state = self._load_state()
        self.override: dict | None = state.get("override")
        self.paused: bool = state.get("paused", False)
        self.trims: Trims = Trims.from_json(state.get("volume"), config.audio)
        self.paused_at_closing = False  # the pause reached closing time: the next opening clears it
        self.open: bool | None = None  # as last logged; None before the first pass

    def reconfigure(self, loaded: LoadedConfig) -> None:
        """A reloaded config: the plan is rebuilt; a run in progress that no longer fits ends at the next pass."""
        self.config = loaded.config
        self.plan = Plan(loaded.config.cycle, loaded.config.hours, loaded.config.runs)
        self.trims = Trims.from_json(self.trims.to_json(), loaded.config.audio)  # a narrower range drops those beyond
        if self.override is not None and not self._override_fits(self.override):
            self.log.warning("override_dropped", preset=self.override.get("preset"), why="its preset is gone")
            self.override = None
            self._save_state()

    @property
    def finished(self) -> bool:
        return self.runs_left is not None and self.runs_started >= self.runs_left and self.playing is None

    # What should play

    def wanted(self, now: datetime) -> Want | None:
        now = self.plan.instant(now)
        audio, hours = self.config.audio, self.config.hours
        if self.runs_left is not None:  # --runs: each run plays to its end, then the next
            if self.playing is not None or self.runs_started >= self.runs_left:
                return self.playing
            return self._back_to_back(now)
        if self.override is not None:
            until = self._instant(self.override["until"])
            # An override never outlives the opening period it began in: closing always closes.
            closing = None if self.ignore_hours else self.plan.closing(self._instant(self.override["since"]))
            end = min(until, closing) if closing is not None else until
            if now < end:
                closes = end == closing
                fade_out = hours.fade_out_seconds if closes else audio.run_fade_out_seconds
                return Want(
                    f"override {self.override['since']}",
                    self.override["preset"],
                    end,
                    SHORT_FADE_SECONDS * 2,
                    fade_out,
                    closes,
                )
            self.log.info(
                "override_ended",
                preset=self.override["preset"],
                resuming="the schedule" if now < until else "the schedule: closing time",
            )
            self.override = None
            self._save_state()
        if self.ignore_hours:
            playing = self.playing
            return playing if playing is not None and playing.key.startswith("run ") else self._back_to_back(now)
        slot = self.plan.at(now)
        if slot is None:
            return None
        return Want(
            f"slot {slot.start.isoformat()}",
            slot.preset,
            slot.end,
            hours.fade_in_seconds if slot.first else audio.run_fade_in_seconds,
            hours.fade_out_seconds if slot.last else self._run_fade_out(),
            slot.last,
        )

    def _back_to_back(self, now: datetime) -> Want:
        """The cycle's next preset for its whole duration, whatever the hours say."""
        audio, presets = self.config.audio, self.config.cycle.presets
        preset = presets[self.runs_started % len(presets)]
        end = now + timedelta(seconds=self.config.runs[preset].duration_seconds)
        last = self.runs_left is not None and self.runs_started + 1 >= self.runs_left
        return Want(
            f"run {self.runs_started}",
            preset,
            end,
            audio.run_fade_in_seconds,
            audio.run_fade_out_seconds if last else self._run_fade_out(),
        )

    @property
    def crossfading(self) -> bool:
        """Runs that follow each other glide from one into the next (no gap, a crossfade time set)."""
        cycle = self.config.cycle
        return cycle.gap_seconds == 0 and cycle.crossfade_seconds > 0

    def _run_fade_out(self) -> float:
        """A run followed by another: no fade-out when they crossfade."""
        return 0.0 if self.crossfading else self.config.audio.run_fade_out_seconds

    def _fade(self, level: float, seconds: float) -> None:
        self.send_senses(Fade(level, seconds))
        if level > 0 and not self.lit:
            self.lit_since = self.now
        self.lit = level > 0

    # Each pass

    def tick(self, now: datetime) -> None:
        """One pass at `now` (UTC, or naive on the gallery's clock)."""
        now = self.now = self.plan.instant(now)
        self._log_opening_and_closing(now)
        want = self.wanted(now)
        if self.paused and not self._closing_while_paused(want, now):
            return
        playing = self.playing
        if playing is not None and (want is None or want.key != playing.key):
            if want is None:
                self._end_run(playing.fade_out)
            else:  # the next run now (a slot's end, an override, a skip): glide into it, or a quick fade
                self._end_run(None if self.crossfading else SHORT_FADE_SECONDS)
        elif (
            playing is not None
            and not self.fading_out
            and playing.fade_out > 0
            and now >= playing.end - timedelta(seconds=playing.fade_out)
        ):
            self._fade(0.0, playing.fade_out)  # the run's own fade-out, before its slot ends
            self.fading_out = True
        left = (want.end - now).total_seconds() if want is not None else 0.0
        if (
            self.playing is None
            and want is not None
            and self.trainer_idle
            and now >= self.retry_at
            and left >= min(LEAST_RUN_SECONDS, self.config.runs[want.preset].duration_seconds / 2)
        ):
            seconds = left
            self.send_trainer(Play(want.preset, seconds))
            if self.crossfading and self.lit:
                self.send_senses(Crossfade(self.config.cycle.crossfade_seconds))
            else:
                self._fade(1.0, want.fade_in)
            self.playing, self.trainer_idle, self.fading_out, self.dark = want, False, False, False
            self.completed_early = False
            self.runs_started += 1
            self.log.info(
                "programme_playing",
                preset=want.preset,
                until=self.plan.local(want.end).isoformat(timespec="seconds"),
                why=want.key.split(" ")[0],
            )
        if want is None and self.playing is None and not self.dark:
            self._fade(0.0, self.config.hours.fade_out_seconds)
            self.dark = True

    # Open or closed, as the technician reads it

    def expecting_output(self, now: datetime) -> bool:
        """A run plays at full level (not paused, fading, stopping, or just lit): silence or a still image is wrong."""
        now = self.plan.instant(now)
        return (
            self.playing is not None
            and self.lit
            and not (self.paused or self.fading_out or self.stopping_run)
            and now - self.lit_since >= timedelta(seconds=EXPECT_OUTPUT_AFTER_SECONDS)
            and self.is_open(now)
        )

    @property
    def follows_hours(self) -> bool:
        """False under --runs and --preview, which ignore the hours."""
        return self.runs_left is None and not self.ignore_hours

    def is_open(self, now: datetime) -> bool:
        """Within the opening hours (always, when they are ignored)."""
        return not self.follows_hours or self.plan.closing(now) is not None

    def outlook(self, now: datetime) -> dict:
        """Open or closed, until when, what plays and what next, on the gallery's clock: for /status."""
        now = self.plan.instant(now)
        shown = self._shown
        is_open = self.is_open(now)
        following = next((slot for slot in self.plan.upcoming(now, 12.0) if slot.start > now), None)
        return {
            "open": is_open,
            "timezone": str(self.plan.zone),
            "clock": shown(now),
            "closes_at": shown(self.plan.closing(now)) if is_open and self.follows_hours else None,
            "opens_at": None if is_open else shown(self.plan.next_opening(now)),
            "playing": self.playing.preset if self.playing is not None else None,
            "playing_until": shown(self.playing.end) if self.playing is not None else None,
            "next": {"preset": following.preset, "at": shown(following.start)} if following and is_open else None,
        }

    def _shown(self, moment: datetime | None) -> str | None:
        return None if moment is None else self.plan.local(moment).isoformat(timespec="seconds")

    def _log_opening_and_closing(self, now: datetime) -> None:
        is_open = self.is_open(now)
        if is_open == self.open:
            return
        if self.open is None:
            mode = "schedule" if self.follows_hours else "runs" if self.runs_left is not None else "preview"
            self.log.info(
                "cycle_started",
                mode=mode,
                presets=list(self.config.cycle.presets),
                order=self.config.cycle.order,
                timezone=str(self.plan.zone),
                open=is_open,
            )
        self.open = is_open
        if is_open:
            closing = self.plan.closing(now) if self.follows_hours else None
            self.log.info("gallery_opened", closes_at=self._shown(closing) or "never: the hours are ignored")
        else:
            opening = self.plan.next_opening(now)
            self.log.info(
                "gallery_closed",
                opens_at=self._shown(opening) or "not within 8 days ([hours] and closed_dates)",
                clock=self._shown(now),
            )

    def _closing_while_paused(self, want: Want | None, now: datetime) -> bool:
        """A pause holds the training, never the day: True when this pass must go on all the same.

        Closing time (or the fade-out before it) goes on as if there were no pause; a pause that
        lasts until the next opening is cleared then.
        """
        if want is None:
            if self.plan.closing(now) is not None:
                return False  # a gap between two runs, not closing time: the pause holds
            self.paused_at_closing = True
            return True
        if self.paused_at_closing:
            self.paused_at_closing = False
            self.paused = False
            self.send_trainer(Resume())
            self._save_state()
            self.log.info("pause_cleared", why="the gallery opened again", preset=want.preset)
            return True
        playing = self.playing
        return playing is not None and playing.closes and now >= playing.end - timedelta(seconds=playing.fade_out)

    def _end_run(self, fade_seconds: float | None) -> None:
        """Stop the trainer's run, fading the senses out over `fade_seconds` (None: they play on)."""
        if not self.stopping_run:
            if fade_seconds is not None:
                self._fade(0.0, fade_seconds)
            if self.completed_early:  # its run has ended already: nothing to stop
                self.playing, self.completed_early = None, False
                return
            self.send_trainer(StopRun())
            self.stopping_run = True

    # The trainer reports

    def on_idle(self) -> None:
        self.trainer_idle = True

    def on_run_ended(self, status: RunStatus, now: datetime) -> None:
        now = self.plan.instant(now)
        if status == "completed" and self._slot_plays_on(now):
            self.completed_early, self.failures = True, 0
            return
        self.playing, self.stopping_run, self.completed_early = None, False, False
        if status == "failed":
            self.failures += 1
            wait = min(FAILURE_BACKOFF_MAX_SECONDS, 2.0 ** (self.failures - 1))
            self.retry_at = now + timedelta(seconds=wait)
            self.log.error("run_failed_retrying", failures_in_a_row=self.failures, retry_in_seconds=wait)
        else:
            self.failures = 0

    def _slot_plays_on(self, now: datetime) -> bool:
        """A run completed within a slot or override of the schedule, which has not ended: it holds it.
        (Under --runs and --preview a run's own end is the end of its turn.)"""
        playing = self.playing
        return (
            playing is not None
            and not self.stopping_run
            and self.runs_left is None
            and not playing.key.startswith("run ")
            and now < playing.end
        )

    def on_trainer_lost(self) -> None:
        """The trainer child died: its run is over; play again when the new one is idle."""
        self.playing, self.trainer_idle, self.stopping_run, self.completed_early = None, False, False, False
        if self.runs_left is not None:
            self.runs_started = max(0, self.runs_started - 1)  # that run did not count

    # Commands (the control socket)

    def override_with(self, preset: str, minutes: float, who: str, now: datetime) -> dict:
        now = self.plan.instant(now)
        until = self.plan.local(now + timedelta(minutes=minutes))  # elapsed minutes, shown on the gallery's clock
        since = self.plan.local(now)
        self.override = {"preset": preset, "until": until.isoformat(), "since": since.isoformat(), "by": who}
        self.paused = False
        self._save_state()
        self.log.info(
            "override_started", preset=preset, minutes=minutes, until=until.isoformat(timespec="seconds"), by=who
        )
        return {"preset": preset, "until": until.isoformat(timespec="seconds")}

    def skip(self, who: str, now: datetime) -> dict:
        """End the current run; the next preset of the cycle plays for the rest of its time."""
        now = self.plan.instant(now)
        current = self.playing or self.wanted(now)
        if current is None:
            return {"skipped": None}
        presets = self.config.cycle.presets
        following = (
            presets[(presets.index(current.preset) + 1) % len(presets)] if current.preset in presets else presets[0]
        )
        minutes = max(1.0, (current.end - now).total_seconds() / 60)
        self.override_with(following, minutes, who, now)
        self.log.info("run_skipped", preset=current.preset, by=who)
        return {"skipped": current.preset, "playing": following}

    def set_paused(self, paused: bool, who: str) -> dict:
        if paused != self.paused:
            self.paused = paused
            self.send_trainer(Pause() if paused else Resume())
            self._save_state()
            self.log.info("paused" if paused else "resumed", by=who)
        return {"paused": self.paused}

    def set_trim(self, db: float, speaker: int | None, who: str) -> Trims:
        """The technician's volume, whole or one speaker, kept across restarts (ValueError outside the range)."""
        check_trim(db, speaker, self.config.audio)
        self.trims = self.trims.set(db, speaker)
        self._save_state()
        self.log.info("volume_set", db=db, speaker=speaker or "all", by=who, trims=self.trims.to_json())
        return self.trims

    def _instant(self, text: str) -> datetime:
        """A time kept in the state file (an older file's may lack its offset: the gallery's clock then)."""
        return self.plan.instant(datetime.fromisoformat(text))

    def _load_state(self) -> dict:
        """The kept override and pause; whatever is damaged or no longer fits the config is dropped (logged)."""
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(state, dict):
            return {}
        override = state.get("override")
        if override is not None and not self._override_fits(override):
            self.log.warning("override_dropped", override=repr(override)[:200], why="damaged or of an unknown preset")
            state["override"] = None
        return {"override": state.get("override"), "paused": state.get("paused") is True, "volume": state.get("volume")}

    def _override_fits(self, override: object) -> bool:
        """A kept override the programme can act on: its preset is one of [runs], its times are readable."""
        if not isinstance(override, dict) or override.get("preset") not in self.config.runs:
            return False
        try:
            self._instant(str(override["until"]))
            self._instant(str(override["since"]))
        except (KeyError, ValueError, TypeError):
            return False
        return True

    def _save_state(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        kept = {"override": self.override, "paused": self.paused, "volume": self.trims.to_json()}
        write_atomic(self.state_path, json.dumps(kept).encode())
