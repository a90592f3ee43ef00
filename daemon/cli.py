"""The `twos-and-sevens` command: run the installation, check its config, train and inspect runs."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from daemon import config as configuration
from daemon.gan.errors import MnistCorrupt, MnistMissing
from daemon.logs import configure, get_logger
from daemon.sound.devices import DeviceMissing
from daemon.visuals.errors import NoDisplay, NoGraphics

__all__ = ["main"]

EXIT_CONFIG = 2
EXIT_DATA = 3
EXIT_USAGE = 2  # a bad option value, as argparse exits


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except configuration.ConfigInvalid as exc:
        _print_config_errors(exc)
        return EXIT_CONFIG
    except (MnistMissing, MnistCorrupt, DeviceMissing, NoGraphics, NoDisplay) as exc:
        print(f"twos-and-sevens: {exc}", file=sys.stderr)
        return EXIT_DATA
    except CommandFailed as exc:
        print(f"twos-and-sevens: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


class CommandFailed(Exception):
    """A command that cannot go on: the message for the technician, and the exit code."""

    def __init__(self, exit_code: int, message: str):
        super().__init__(message)
        self.exit_code, self.message = exit_code, message


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twos-and-sevens", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, function, help: str | None) -> argparse.ArgumentParser:
        # help=None: an internal command, left out of the listing (the supervisor's children).
        p = sub.add_parser(name, description=help, help=help) if help else sub.add_parser(name)
        p.add_argument(
            "--config",
            type=Path,
            default=None,
            help="installation.toml (default: $TWOS_AND_SEVENS_CONFIG, ./installation.toml, "
            "~/.config/twos-and-sevens/installation.toml, /etc/twos-and-sevens/installation.toml, "
            "else the embedded defaults)",
        )
        p.set_defaults(command=function, command_name=name)
        return p

    run = command("run", _run, "Play the installation: cycle through the presets until stopped.")
    run.add_argument("--runs", type=int, default=None, help="stop after this many runs")
    run.add_argument("--flat-out", action="store_true", help="train as fast as possible (no pacing)")
    run.add_argument("--no-sound", action="store_true", help="no sound child")
    run.add_argument("--no-image", action="store_true", help="no image child (projectors)")
    run.add_argument(
        "--preview",
        action="store_true",
        help="audition on a laptop: one window per projector, the speakers folded to stereo on the "
        "default audio device, the cycle back to back whatever the opening hours",
    )

    child = command("child", _child, None)
    child.add_argument("role", choices=["trainer", "sound", "image"])
    child.add_argument("--fd", type=int, required=True, help="its end of the link to the supervisor")
    child.add_argument("--flat-out", action="store_true")
    child.add_argument("--preview", action="store_true")

    schedule = command("schedule", _schedule, "Print what will play over the next 24 hours.")
    schedule.add_argument("--from", dest="start", default=None, help="YYYY-MM-DDTHH:MM (default: now)")
    schedule.add_argument("--hours", type=float, default=24.0)

    override = command("override", _control, "Play PRESET now, for M minutes, then resume the schedule.")
    override.add_argument("preset")
    override.add_argument("--minutes", type=float, default=10.0)
    for name, about in (
        ("skip", "End the current run; the next preset plays for the rest of its time."),
        ("pause", "Hold the training where it is (the image holds, the sound idles)."),
        ("resume", "Carry on after pause."),
        ("status", "What the running daemon plays, its children and restarts."),
        ("reload", "Re-read installation.toml (as SIGHUP does); an invalid file is refused."),
    ):
        command(name, _control, about)

    restart = command("restart-child", _control, "Restart one child now (trainer, sound or image), given up or not.")
    restart.add_argument("role", choices=["trainer", "sound", "image"])

    volume = command(
        "volume",
        _control,
        "Trim the running installation's loudness: DB over the whole output (or one speaker), kept across "
        "restarts; 0 = as composed; no DB (or --show) prints the trims.",
    )
    volume.add_argument("db", nargs="?", type=float, default=None, help="the trim in dB, e.g. -6, +2 or 0")
    volume.add_argument("--channel", type=int, default=None, metavar="N", help="trim speaker N only (1, 2, …)")
    volume.add_argument("--show", action="store_true", help="print the trims and their range, change nothing")

    projectors = command(
        "projectors",
        _control,
        "The projectors' power over PJLink: on or off by hand through the running daemon (held until the next "
        "opening or closing), or status: each one's power, lamp hours and error flags.",
    )
    projectors.add_argument("power", nargs="?", choices=["on", "off", "status"], default="status")

    check = command("check-config", _check_config, "Check installation.toml; print every mistake.")
    check.add_argument("path", nargs="?", type=Path, default=None)

    command("fetch-data", _fetch_data, "Download MNIST into [data] mnist_path (needs a network).")

    train = command("train-classifier", _train_classifier, "Train and cache the judging classifier.")
    train.add_argument("--epochs", type=int, default=2)

    trial = command("trial", _trial, "Run one preset, record it and write a contact sheet.")
    trial.add_argument("preset")
    trial.add_argument("--steps", type=int, default=None, help="steps (default: the preset's)")
    trial.add_argument("--seed", type=int, default=None, help="seed (default: the preset's)")
    trial.add_argument("--flat-out", action="store_true", help="train as fast as possible (no pacing)")

    command("runs", _runs, "List recorded runs.")

    logs = command("logs", _logs, "Print the daemon's log: the unit's journal under systemd, else [logging] file.")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing lines as they come (Ctrl-C ends)")
    logs.add_argument("--level", choices=["debug", "info", "warning", "error"], default=None, help="this or worse")
    logs.add_argument("--since", default=None, help="1h, 30m, 2d, 90s ago, or a time: 2026-12-02T14:00 (local)")
    logs.add_argument("--run", dest="run_id", default=None, help="only RUN_ID: from its first line to its end")
    logs.add_argument("--json", action="store_true", help="the events as JSON lines, for jq or a script")
    logs.add_argument("--lines", "-n", type=int, default=None, help="only the last N (default: all; 10 with --follow)")
    logs.add_argument("--unit", default=None, help="the systemd unit (default: twos-and-sevens.service)")
    logs.add_argument(
        "--journal-file",
        type=Path,
        action="append",
        default=None,
        help="read these journal files instead (copied, or received by systemd-journal-remote); repeatable",
    )
    logs.add_argument("--file", type=Path, default=None, help="read this log file instead of [logging] file")

    play = command("play", _play, "Play a recorded run's sound in real time on the configured device.")
    _recording_arguments(play)
    play.add_argument("--channels", type=int, default=None, help="speakers (default: [audio] channels)")
    play.add_argument("--speed", type=float, default=1.0, help="× the recorded pace")

    command("devices", _devices, "List the audio output devices and their channel counts.")

    speakers = command("speaker-test", _speaker_test, "Pink-noise bursts on each speaker in turn.")
    speakers.add_argument("--channels", type=int, default=None, help="speakers (default: [audio] channels)")
    speakers.add_argument("--seconds-per-channel", type=float, default=2.0)
    speakers.add_argument("--rounds", type=int, default=1)

    render = command("render-audio", _render_audio, "Render a recorded run's sound to a multichannel WAV.")
    _recording_arguments(render)
    render.add_argument("--out", type=Path, required=True, help="the WAV file to write (24-bit)")
    render.add_argument("--channels", type=int, default=None, help="speakers (default: [audio] channels)")
    render.add_argument("--downmix", type=Path, default=None, help="also write a stereo preview WAV here")

    show = command("show", _show, "Show a recorded run's image on the projectors, in real time.")
    _recording_arguments(show)
    show.add_argument("--speed", type=float, default=1.0, help="× the recorded pace")
    show.add_argument("--windowed", action="store_true", help="ordinary windows instead of fullscreen projectors")

    pattern = command(
        "projector-test", _projector_test, "Show each projector's name, index, resolution and a test pattern."
    )
    pattern.add_argument("--seconds", type=float, default=60.0, help="how long (Ctrl-C ends it sooner)")

    footage = command("render-video", _render_video, "Render a recorded run's image to an MP4 or PNG frames.")
    _recording_arguments(footage)
    footage.add_argument("--out", type=Path, required=True, help="FILE.mp4 (H.264), or a folder for PNG frames")
    footage.add_argument("--width", type=int, default=1280, help="width of each scene in pixels")
    footage.add_argument("--height", type=int, default=720, help="height in pixels")
    footage.add_argument("--fps", type=float, default=30.0)
    footage.add_argument(
        "--scene",
        action="append",
        default=None,
        help="a scene to render (repeat for several side by side; default: every projector's)",
    )
    footage.add_argument("--seconds", type=float, default=None, help="only the first SECONDS")

    festival = command(
        "render",
        _render,
        "Render a recorded run for a festival, from one timeline: the speakers' WAV, its stereo downmix, "
        "and an MP4 of the image carrying that stereo.",
    )
    _recording_arguments(festival)
    festival.add_argument("--out", type=Path, required=True, help="folder for sound-<N>ch.wav, stereo.wav, footage.mp4")
    festival.add_argument("--channels", type=int, default=None, help="speakers (default: [audio] channels)")
    festival.add_argument("--scenes", default=None, metavar="A,B", help="scenes side by side (default: projectors')")
    festival.add_argument("--width", type=int, default=1280, help="width of each scene in pixels")
    festival.add_argument("--height", type=int, default=720, help="height in pixels")
    festival.add_argument("--fps", type=float, default=30.0)
    return parser


def _recording_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", help="a recording folder, or a run id under [data] recordings_path")
    parser.add_argument(
        "--run-seconds",
        default=None,
        metavar="SECONDS|preset",
        help="re-time the run to last this long (steps evenly spread), or 'preset' for its "
        "preset's duration_seconds: a flat-out trial at the gallery's pace",
    )


def _load(args) -> configuration.LoadedConfig:
    path = getattr(args, "path", None) or args.config
    # A child runs on its supervisor's validated config, whatever the file says by now.
    loaded = configuration.load_running(path) if args.command_name == "child" else configuration.load(path)
    settings = loaded.config.logging
    log_file = loaded.path(settings.file) if settings.file else None
    # `run` (the supervisor) rotates the file; its children and other commands only append to it.
    configure(
        settings.level,
        settings.format,
        log_file,
        settings.file_max_megabytes,
        settings.file_backups,
        file_owner=args.command_name == "run",
    )
    return loaded


def _print_config_errors(exc: configuration.ConfigInvalid) -> None:
    count = len(exc.errors)
    print(f"installation config has {count} error{'s' if count > 1 else ''}:", file=sys.stderr)
    for error in exc.errors:
        print(f"  {error}", file=sys.stderr)


def _check_config(args) -> int:
    loaded = configuration.load(args.path or args.config)
    config = loaded.config
    print(
        f"{loaded.source}: ok — '{config.installation.name}', {len(config.runs)} presets "
        f"({', '.join(config.runs)}), cycle {' → '.join(config.cycle.presets)}, device {config.compute.device}"
    )
    return 0


@contextmanager
def _progress_bar(description: str, unit: str):
    """A tqdm bar fed by `progress(done, total)` callbacks (hidden when stderr is not a terminal)."""
    from tqdm import tqdm

    with tqdm(desc=description, unit=unit, disable=None) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield progress


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _run(args) -> int:
    from daemon.gan.dataset import ensure_mnist
    from daemon.supervision.supervisor import Supervisor

    loaded = _load(args)
    ensure_mnist(loaded)  # missing data is the technician's to fix: say so now, not in a restart loop
    roles = ["trainer"] + [role for role, off in (("sound", args.no_sound), ("image", args.no_image)) if not off]
    supervisor = Supervisor(loaded, roles, runs=args.runs, flat_out=args.flat_out, preview=args.preview)
    signal.signal(signal.SIGHUP, lambda *_: supervisor.reload_asked.set())
    return supervisor.run(_stop_on_signals())


def _control(args) -> int:
    import json

    from daemon.messages import RequestInvalid, StatusRequest, parse_request
    from daemon.supervision.control import DaemonNotFound, ask_daemon

    loaded = configuration.load(args.config)
    body = {"command": args.command_name}
    if hasattr(args, "preset"):  # override's arguments
        body.update(preset=args.preset, minutes=args.minutes)
    if hasattr(args, "role"):  # restart-child's
        body.update(role=args.role)
    if args.command_name == "projectors":
        body.update(power=ASKED_POWER[args.power])
    if args.command_name == "volume":
        if args.show and args.db is not None:
            raise CommandFailed(EXIT_USAGE, "volume: give a trim in dB or --show, not both")
        body.update(db=args.db, speaker=args.channel)
    try:  # checked here as the daemon checks it: a mistake is told without a round trip
        request = parse_request(json.dumps(body).encode())
    except RequestInvalid as exc:
        raise CommandFailed(EXIT_CONFIG, str(exc)) from None
    try:
        socket, reply = ask_daemon(configuration.control_socket_candidates(loaded), request.model_dump())
    except DaemonNotFound as exc:
        print(
            f"twos-and-sevens: no daemon answers (looked at {exc}): is it running, and may this user open "
            f"the socket (sudo for the system service, or [control] group)?",
            file=sys.stderr,
        )
        return EXIT_DATA
    if not reply.get("ok"):
        print(f"twos-and-sevens: {reply.get('error')}", file=sys.stderr)
        return 1
    reply.pop("ok")
    if args.command_name == "volume":
        print(_shown_volume(reply["volume"]))
        return 0
    if args.command_name == "projectors":
        print(_shown_projectors(reply))
        return 0
    print(
        json.dumps({"socket": str(socket), **reply}, indent=2, default=str)  # which daemon answered
        if isinstance(request, StatusRequest)
        else ", ".join(f"{k}: {v}" for k, v in reply.items())
    )
    return 0


def _shown_volume(volume: dict) -> str:
    """The trims as a technician reads them: `volume: -6 dB over all speakers; speaker 3 -2 dB (range …)`."""
    low, high = volume["range_db"]
    parts = [f"{volume['whole_db']:+g} dB over all speakers"] + [
        f"speaker {n} {db:+g} dB" for n, db in volume["speakers_db"].items()
    ]
    return f"volume: {'; '.join(parts)} (allowed {low:+g} to {high:+g} dB)"


ASKED_POWER = {"on": "on", "off": "off", "status": None}  # `projectors status` asks for no change


def _shown_projectors(reply: dict) -> str:
    """A line per projector: power (and what the hours want), lamp hours, flags not ok, any trouble."""
    lines = []
    if reply.get("asked"):
        asked = reply["asked"]
        lines.append(f"asked: {asked.get('to')} by {asked.get('by')}, held until the opening hours next change")
    for name, seen in reply["projectors"].items():
        flags = ", ".join(f"{part} {level}" for part, level in (seen.get("errors") or {}).items() if level != "ok")
        parts = [
            f"{name}: {seen.get('power') or 'unknown'} (wanted {seen.get('wanted') or 'unknown'})",
            f"lamp {seen['lamp_hours']} h" if seen.get("lamp_hours") is not None else "",
            f"flags: {flags}" if flags else "",
            f"problem: {seen['problem']}" if seen.get("problem") else "",
        ]
        lines.append("; ".join(part for part in parts if part))
    return "\n".join(lines)


def _schedule(args) -> int:
    from datetime import UTC, datetime

    from daemon.schedule.plan import Plan

    config = _load(args).config
    plan = Plan(config.cycle, config.hours, config.runs)
    try:
        start = plan.instant(datetime.fromisoformat(args.start)) if args.start else datetime.now(UTC)
    except ValueError:
        raise CommandFailed(
            EXIT_USAGE,
            f"--from {args.start!r} is not a time: write YYYY-MM-DDTHH:MM on the gallery's clock ({plan.zone})",
        ) from None
    slots = plan.upcoming(start.replace(microsecond=0), args.hours)
    print(f"times on the gallery's clock: {plan.zone} ([hours] timezone)")
    if not slots:
        print(f"closed for the next {args.hours:g} hours ([hours] and closed_dates)")

    def shown(moment: datetime, day: bool = True) -> str:
        local = plan.local(moment)
        return f"{local:%Y-%m-%d %H:%M:%S %Z}" if day else f"{local:%H:%M:%S %Z}"

    for slot, following in zip(slots, [*slots[1:], None], strict=False):
        notes = ("opens: fades in" if slot.first else "") + (" closes: fades out" if slot.last else "")
        print(
            f"{shown(slot.start)}–{shown(slot.end, day=False)}  {slot.preset:12s} "
            f"({slot.seconds / 60:.1f} min) {notes}".rstrip()
        )
        if slot.last:
            reopening = f"until {shown(following.start)}" if following else "beyond this window"
            print(f"{shown(slot.end)}  closed {reopening}")
    return 0


def _child(args) -> int:
    from daemon.supervision.roles import child_main

    loaded = _load(args)
    return child_main(args.role, loaded, args.fd, {"flat_out": args.flat_out, "preview": args.preview})


def _fetch_data(args) -> int:
    from daemon.gan.dataset import fetch

    loaded = _load(args)
    log = get_logger("data")
    log.info("mnist_fetching", path=str(loaded.mnist_path))
    try:
        fetch(loaded.mnist_path)
    except (OSError, RuntimeError) as exc:
        print(
            f"twos-and-sevens: could not download MNIST into {loaded.mnist_path}: {exc}. Without a network, "
            f"copy the four uncompressed files into {loaded.mnist_path / 'MNIST' / 'raw'}.",
            file=sys.stderr,
        )
        return EXIT_DATA
    log.info("mnist_ready", path=str(loaded.mnist_path))
    return 0


def _train_classifier(args) -> int:
    from daemon.gan.classifier import train_classifier
    from daemon.gan.dataset import load_images
    from daemon.gan.device import select_device

    loaded = _load(args)
    device = select_device(loaded.config.compute.device, loaded.config.compute.cpu_threads)
    train = load_images(loaded.mnist_path, train=True, device=device)
    test = load_images(loaded.mnist_path, train=False, device=device)
    with _progress_bar("training classifier", "step") as progress:
        accuracy = train_classifier(train, test, loaded.classifier_path, epochs=args.epochs, progress=progress)
    get_logger("classifier").info(
        "classifier_trained", path=str(loaded.classifier_path), test_accuracy=round(accuracy, 4)
    )
    print(f"test accuracy {accuracy:.2%} on MNIST's 10,000 test digits; weights in {loaded.classifier_path}")
    return 0


def _trial(args) -> int:
    from tqdm import tqdm

    from daemon.recording.contact_sheet import contact_sheet
    from daemon.recording.reader import Recording
    from daemon.runs import Instrument

    loaded = _load(args)
    if args.preset not in loaded.config.runs:
        hint = configuration.errors.did_you_mean(args.preset, list(loaded.config.runs))
        print(
            f"twos-and-sevens: no preset '{args.preset}' in [runs].{hint} Presets: {', '.join(loaded.config.runs)}.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    stop = _stop_on_signals()
    run = Instrument(loaded).start(args.preset, seed=args.seed, steps=args.steps, flat_out=args.flat_out)
    frames = iter(run)
    for _ in tqdm(frames, total=run.spec.steps, desc=run.spec.run_id, unit="step", disable=None):
        if stop.is_set():
            frames.close()
            break
    sheet = contact_sheet(Recording(run.folder), run.folder / "contact-sheet.png")
    print(f"recorded {run.folder}\ncontact sheet {sheet}")
    return 0


def _runs(args) -> int:
    from daemon.recording.reader import list_recordings

    loaded = _load(args)
    runs = list_recordings(loaded.recordings_path)
    if not runs:
        print(f"no recordings in {loaded.recordings_path}")
    for run in runs:
        summary = run.summary()
        print(
            f"{run.run_id}  {summary.get('preset', '?'):<10} {run.status:<11} "
            f"{run.steps_done}/{summary.get('steps_total', '?')} steps  "
            f"{run.size_bytes() / 1e6:.1f} MB"
        )
    return 0


def _logs(args) -> int:
    import collections
    import os

    from daemon import log_reader

    loaded = configuration.load(args.config)  # no logging set up: reading the log file must not append to it
    try:
        since = log_reader.parse_since(args.since) if args.since else None
    except ValueError:
        raise CommandFailed(
            EXIT_CONFIG, f"--since {args.since!r}: give 1h, 30m, 2d, 90s, or a time like 2026-12-02T14:00"
        ) from None
    if args.lines is not None and args.lines < 0:
        raise CommandFailed(EXIT_CONFIG, "--lines must be 0 or more")
    try:
        source, where = log_reader.open_log(loaded, args.unit or log_reader.UNIT, args.journal_file, args.file)
    except log_reader.LogMissing as exc:
        raise CommandFailed(EXIT_DATA, str(exc)) from None
    if isinstance(source, log_reader.LogFile) and not source.path.exists() and not args.follow:
        raise CommandFailed(
            EXIT_DATA, f"no log file at {source.path} ({where}) yet: the daemon makes it on starting with this config"
        )
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    selection = log_reader.Selection(args.level, since, args.run_id)
    lines = args.lines if args.lines is not None else (10 if args.follow else None)
    stop = _stop_on_signals()

    def show(entries) -> None:
        for entry in entries:
            print(log_reader.as_json(entry) if args.json else log_reader.render(entry, colour), flush=args.follow)

    try:
        kept = (entry for entry in source.history(since) if selection.keep(entry))
        show(collections.deque(kept, maxlen=lines) if lines is not None else kept)
        if args.follow:
            if isinstance(source, log_reader.LogFile) and not source.path.exists():
                print(f"twos-and-sevens: waiting for {source.path} ({where}) to appear", file=sys.stderr)
            show(entry for entry in source.follow(stop) if selection.keep(entry))
        else:
            show(entry for entry in source.last_line() if selection.keep(entry))
    except log_reader.JournalFailed as exc:
        raise CommandFailed(EXIT_DATA, str(exc)) from None
    except BrokenPipeError:  # `logs | head`: the reader has gone, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        if isinstance(source, log_reader.LogFile):
            source.close()
    return 0


def _load_recording(args):
    """(config, the recording args name, re-timed as --run-seconds says); CommandFailed says what is wrong."""
    from daemon.recording.reader import Recording

    loaded = _load(args)
    name = args.recording
    found = next(
        (Recording(c) for c in (Path(name), loaded.recordings_path / name) if (c / "frames.jsonl").is_file()), None
    )
    if found is None:
        places = list(dict.fromkeys([str(Path(name)), str(loaded.recordings_path / name)]))  # an absolute path is one
        raise CommandFailed(
            EXIT_DATA,
            f"no recording at {' or '.join(places)} (a folder with frames.jsonl; `twos-and-sevens runs` lists them)",
        )
    pace = args.run_seconds
    if pace is None:
        return loaded, found
    try:
        seconds = float(found.summary()["settings"]["duration_seconds"]) if pace == "preset" else float(pace)
    except (KeyError, TypeError, ValueError):
        seconds = None
    if seconds is None or not 0 < seconds <= 86_400:
        raise CommandFailed(
            EXIT_DATA,
            f"--run-seconds {pace}: give seconds (above 0, at most 86400), or 'preset' "
            f"for a recording whose summary.json names its preset's duration",
        )
    return loaded, found.at_pace(seconds)


def _require_frames(recording) -> None:
    """CommandFailed for a recording whose run stopped before its first step (checked after the options)."""
    if next(iter(recording.frames(with_grids=False)), None) is None:
        raise CommandFailed(
            EXIT_DATA,
            f"the recording at {recording.folder} holds no frames (a run stopped before its first step): "
            "nothing to play or render; `twos-and-sevens runs` lists the others",
        )


def _play(args) -> int:
    from daemon.senses.replay import follow, replay_messages
    from daemon.sound.live import LiveSound

    loaded, recording = _load_recording(args)
    _require_frames(recording)
    stop = _stop_on_signals()
    audio = loaded.config.audio
    sound = LiveSound(loaded, args.channels)
    try:
        follow(
            replay_messages(recording, args.speed, audio.run_fade_in_seconds, audio.run_fade_out_seconds),
            sound.deliver,
            stop,
        )
    finally:
        sound.close()
    return 0


def _devices(args) -> int:
    from daemon.sound.devices import output_devices

    _load(args)
    devices = output_devices()
    if not devices:
        print("no audio output devices (is the sound card plugged in, or the JACK server running?)")
        return EXIT_DATA
    for d in devices:
        print(
            f"[{d['index']}] {d['name']}  ({d['api']}, {d['channels']} output channels, {d['sample_rate_hz']:.0f} Hz)"
        )
    return 0


def _speaker_test(args) -> int:
    from daemon.sound.devices import find_output_device
    from daemon.sound.speaker_test import jack_speaker_test, speaker_test
    from daemon.sound.trim import kept_trims

    loaded = _load(args)
    audio = loaded.config.audio
    channels = args.channels or audio.channels
    trims = kept_trims(loaded.state_path, audio)
    gains = trims.gains(channels)
    if trims != type(trims)():
        print(f"with the volume trims kept by the daemon: {trims.to_json()}", flush=True)

    def announce(channel: int) -> None:
        print(f"channel {channel} of {channels} playing", flush=True)

    stop = _stop_on_signals()
    if audio.route == "jack":  # the route the installation plays through, wired as it wires it
        print(f'route "jack": [audio] device = "{audio.device}"', flush=True)
        ports = jack_speaker_test(audio.device, channels, args.seconds_per_channel, args.rounds, announce, stop, gains)
        print(f"played on {', '.join(ports)}")
        return 0
    device = find_output_device(audio.device, channels)
    speaker_test(device, channels, audio.sample_rate_hz, args.seconds_per_channel, args.rounds, announce, stop, gains)
    return 0


def _render_audio(args) -> int:
    from daemon.sound.render import render_recording

    loaded, recording = _load_recording(args)
    channels = args.channels or loaded.config.audio.channels
    if not 1 <= channels <= 32:
        print("twos-and-sevens: --channels must be 1 to 32", file=sys.stderr)
        return EXIT_CONFIG
    _require_frames(recording)
    with _progress_bar(f"rendering {recording.run_id}", "block") as progress:
        out = render_recording(recording, loaded, args.out, channels, progress, args.downmix)
    print(f"wrote {out} ({channels} channels)" + (f" and {args.downmix} (stereo preview)" if args.downmix else ""))
    return 0


def _show(args) -> int:
    import queue

    from daemon.senses.replay import follow, replay_messages
    from daemon.visuals.director import VisualDirector
    from daemon.visuals.projectors import ProjectorWall

    loaded, recording = _load_recording(args)
    _require_frames(recording)
    video = loaded.config.video
    stop = _stop_on_signals()
    wall = ProjectorWall(loaded, VisualDirector(loaded.config.mapping, video), windowed=args.windowed)
    inbox: queue.Queue = queue.Queue()
    messages = replay_messages(recording, args.speed, video.fade_seconds, video.fade_seconds)
    threading.Thread(target=follow, args=(messages, inbox.put, stop), name="replay", daemon=True).start()
    wall.play(inbox, stop)
    return 0


def _projector_test(args) -> int:
    import queue

    from daemon.equipment.targets import describe_power
    from daemon.visuals.director import VisualDirector
    from daemon.visuals.projectors import ProjectorWall, describe_monitors

    loaded = _load(args)
    stop = _stop_on_signals()
    wall = ProjectorWall(loaded, VisualDirector([], loaded.config.video), test_pattern=True)
    print("monitors here:\n  " + ("\n  ".join(describe_monitors()) or "none"), flush=True)
    power = describe_power(loaded, loaded.config.power.timeout_seconds)
    if power:
        print("projectors' power (PJLink):\n  " + "\n  ".join(power), flush=True)
    timer = threading.Timer(args.seconds, stop.set)
    timer.daemon = True
    timer.start()
    wall.play(queue.Queue(), stop)
    return 0


def _render_video_problems(args, scenes: list[str], shaders: Path, option: str = "--scene") -> list[str]:
    known = sorted(p.stem for p in shaders.glob("*.frag") if p.stem != "present")  # present: the final pass
    problems = [
        f"{option} {scene}: no scene named '{scene}' in {shaders}."
        f"{configuration.errors.did_you_mean(scene, known)} Scenes there: {', '.join(known)}."
        for scene in scenes
        if scene not in known
    ]
    for option, value, low, high in (("width", args.width, 16, 8192), ("height", args.height, 16, 8192)):
        if not low <= value <= high:
            problems.append(f"--{option} {value}: give {low} to {high} pixels.")
    if not 1 <= args.fps <= 240:
        problems.append(f"--fps {args.fps:g}: give 1 to 240 frames per second.")
    return problems


def _render_video(args) -> int:
    from daemon.visuals.video import render_video

    loaded, recording = _load_recording(args)
    scenes = args.scene or [projector.scene for projector in loaded.config.video.projector]
    _refuse("render-video", _render_video_problems(args, scenes, loaded.shaders_path))
    _require_frames(recording)
    with _progress_bar(f"rendering {recording.run_id}", "frame") as progress:
        out = render_video(
            recording, loaded, args.out, scenes, args.width, args.height, args.fps, progress, args.seconds
        )
    print(f"wrote {out} ({' | '.join(scenes)}, {args.width * len(scenes)}×{args.height} at {args.fps:g} fps)")
    return 0


def _refuse(command: str, problems: list[str]) -> None:
    """Each problem named, with what would do: not one sentence covering every option."""
    if problems:
        heading = f"{command}: {len(problems)} problems:"
        raise CommandFailed(EXIT_CONFIG, problems[0] if len(problems) == 1 else "\n  ".join([heading, *problems]))


def _render_problems(args, channels: int, scenes: list[str], shaders: Path) -> list[str]:
    problems = [] if 1 <= channels <= 32 else [f"--channels {channels}: give 1 to 32 speakers."]
    if not scenes:
        problems.append(f"--scenes {args.scenes!r}: name one scene or more, separated by commas.")
    problems += _render_video_problems(args, scenes, shaders, option="--scenes")
    nearest = next(path for path in (args.out, *args.out.parents) if path.exists())  # '.' or '/' at the least
    if not nearest.is_dir():
        problems.append(f"--out {args.out}: {nearest} is a file; give a folder (made if missing).")
    return problems


def _render(args) -> int:
    from daemon.footage import STAGES, Footage, NothingToRender, render_footage

    loaded, recording = _load_recording(args)
    channels = loaded.config.audio.channels if args.channels is None else args.channels
    projectors = ",".join(projector.scene for projector in loaded.config.video.projector)
    scenes = [name.strip() for name in (projectors if args.scenes is None else args.scenes).split(",") if name.strip()]
    _refuse("render", _render_problems(args, channels, scenes, loaded.shaders_path))
    footage = Footage(args.out, channels)
    try:
        with _stage_bars(f"rendering {recording.run_id}", STAGES) as progress:
            render_footage(recording, loaded, footage, scenes, args.width, args.height, args.fps, progress)
    except NothingToRender as exc:
        raise CommandFailed(EXIT_DATA, str(exc)) from None
    except OSError as exc:  # a full disk, a folder not ours: said in one line, as the options are
        raise CommandFailed(EXIT_DATA, f"--out {args.out}: could not write there: {exc}") from None
    print(
        f"wrote {footage.sound} ({channels} channels), {footage.stereo} and {footage.video} "
        f"({' | '.join(scenes)}, {args.width * len(scenes)}×{args.height} at {args.fps:g} fps, stereo AAC)"
    )
    return 0


@contextmanager
def _stage_bars(description: str, units: dict[str, str]):
    """`progress(stage, done, total)` shown as one `_progress_bar` per stage, each closed as the next begins."""
    from contextlib import ExitStack

    with ExitStack() as bars:
        shown: dict[str, Callable[[int, int], None]] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in shown:
                bars.close()
                shown[stage] = bars.enter_context(_progress_bar(f"{description}: {stage}", units[stage]))
            shown[stage](done, total)

        yield progress


if __name__ == "__main__":
    sys.exit(main())
