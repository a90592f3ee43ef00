"""An installation config for tests: the embedded defaults with data paths pointed at test folders."""

from __future__ import annotations

from pathlib import Path

from daemon.config import LoadedConfig, parse

__all__ = ["config_for"]


def config_for(folder: Path, mnist: Path, classifier: Path, extra_toml: str = "") -> LoadedConfig:
    """The embedded defaults, with data paths pointed at test folders (plus any extra TOML)."""
    text = (
        f'[data]\nmnist_path = "{mnist}"\nrecordings_path = "{folder / "recordings"}"\n'
        f'classifier_path = "{classifier}"\n{extra_toml}'
    )
    path = folder / "installation.toml"
    path.write_text(text)
    return LoadedConfig(parse(text, str(path)), str(path), folder)
