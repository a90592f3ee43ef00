"""`run --preview`: the whole piece on a laptop — windows, stereo on the default device, whatever the hours."""

from __future__ import annotations

import json
import socket
import time

import numpy as np

from daemon.sound.master import db_to_gain
from daemon.testing import JackRecorder, RunningDaemon, close_window, config_for, jack_dummy_server, xvfb_server
from tests.test_osc import receive

SPEAKERS = 8
CLOSED_ALL_WEEK = "".join(
    f'{day} = ""\n' for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)
PREVIEW = (
    '[cycle]\npresets = ["random"]\n[runs.random]\nsteps = 3000\nlr_generator = 0.0\n'
    "duration_seconds = 300.0\n[supervision]\nstop_fade_seconds = 0.5\n[http]\nport = 0\n"
    f'[audio]\nchannels = {SPEAKERS}\nroute = "jack"\ndevice = "nothing-like-this"\n'
    f"[hours]\n{CLOSED_ALL_WEEK}"
)


def test_preview_plays_in_windows_and_stereo_while_the_gallery_is_closed(tmp_path, mnist_root, classifier_file):
    """The laptop's "default device" is the JACK dummy server seen through PortAudio (its only device);
    [audio] names a route and device the laptop lacks, and the hours are closed all week: preview ignores all three.
    OSC goes to a socket the test binds, as it would to Max on the same laptop.
    """
    osc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    osc.bind(("127.0.0.1", 0))
    with_osc = PREVIEW + f'[osc]\nenabled = true\ntargets = ["127.0.0.1:{osc.getsockname()[1]}"]\n'
    loaded = config_for(tmp_path, mnist_root, classifier_file, with_osc)
    with osc, jack_dummy_server(SPEAKERS) as jack_env, xvfb_server(1920, 1080) as x_env:
        recorder = JackRecorder(jack_env["JACK_DEFAULT_SERVER"], 2)
        env = {**jack_env, **x_env}
        daemon = RunningDaemon(loaded.source, env, ("--preview",))
        try:
            daemon.wait_for(lambda e: e["event"] == "run_started", 120, "a run although the gallery is closed")
            heard = receive(osc, 20)
            sound = daemon.wait_for(lambda e: e["event"] == "sound_started", 60, "sound_started")
            assert sound["channels"] == SPEAKERS and sound["route"].startswith("preview")
            ready = daemon.wait_for(lambda e: e["event"] == "sound_ready", 30, "sound_ready")
            assert ready["route"] == sound["route"]  # not [audio] route = "jack", which it does not use
            recorder.connect_from("PortAudio", timeout_seconds=60)
            assert len(recorder.client.get_ports("PortAudio:", is_output=True)) == 2  # stereo, not 8 speakers
            time.sleep(4.0)  # past the run's fade-in
            audio = recorder.record(3.0)
            opened = [e for e in daemon.events if e["event"] == "projector_opened"]
            assert [e["projector"] for e in opened] == [0, 1, 2] and all(e["windowed"] for e in opened)
            assert {(e["width"], e["height"]) for e in opened} == {(600, 337)}  # three side by side in 1800 px
            presented = json.loads(daemon.http_get("/status")[1])["children"]["image"]["heartbeat"]["projectors"]
            time.sleep(2.0)
            later = json.loads(daemon.http_get("/status")[1])["children"]["image"]["heartbeat"]["projectors"]
            assert all(later[k] > presented[k] for k in ("0", "1", "2")), (presented, later)

            assert close_window(x_env, "projector 1"), "no preview window to close"
            code = daemon.process.wait(30)
        finally:
            if daemon.process.poll() is None:
                daemon.stop()
            recorder.close()
    addresses = {address for bundle in heard for address in bundle}
    [started] = [b["/twos-and-sevens/run/started"] for b in heard if "/twos-and-sevens/run/started" in b]
    assert (
        started[0] == "random"
        and {"/twos-and-sevens/fade", "/twos-and-sevens/stream/loss_generator", "/twos-and-sevens/step"} <= addresses
    ), addresses
    rms = np.sqrt((audio**2).mean(axis=0))
    assert (rms > 1e-3).all(), f"both sides should sound: rms {rms}"
    assert np.abs(audio).max() <= db_to_gain(loaded.config.audio.ceiling_dbfs) + 1e-4
    events = [e["event"] for e in daemon.events]
    assert code == 0 and "preview_window_closed" in events and "supervisor_stopped" in events, daemon.stderr[-20:]
    assert "child_started" in events and events.count("child_started") == 3  # nothing restarted on the way out
