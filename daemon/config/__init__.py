"""installation.toml: the schema, the loader and the errors a technician reads."""

from daemon.config.errors import ConfigError, ConfigInvalid
from daemon.config.loader import (
    LoadedConfig,
    control_socket_candidates,
    default_config_path,
    load,
    load_running,
    parse,
)
from daemon.config.schema import InstallationConfig, RunPreset

__all__ = [
    "ConfigError",
    "ConfigInvalid",
    "InstallationConfig",
    "LoadedConfig",
    "RunPreset",
    "control_socket_candidates",
    "default_config_path",
    "load",
    "load_running",
    "parse",
]
