#!/usr/bin/env bash
# Installs Twos and Sevens as a service on a gallery PC, idempotently: the service user, this checkout
# and its venv in /opt/twos-and-sevens, the config in /etc/twos-and-sevens (never overwritten), the
# unit, enabled, with its JACK server's unit and the desktop session's grant of the projectors' display.
# --user ACCOUNT installs the user unit for a desktop account instead; --uninstall undoes either
# (keeping the config, the recordings and the user). docs/technician.md walks it.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: sudo ./scripts/install-service.sh [--session ACCOUNT | --user [ACCOUNT]] [--uninstall] [--root DIR]

  (default)       the system unit: user twos-and-sevens (groups audio, video), config in
                  /etc/twos-and-sevens/, state in /var/lib/twos-and-sevens/, and its JACK server
                  (twos-and-sevens-jack.service, the sound card in /etc/twos-and-sevens/jack.env)
  --session ACCOUNT  with the system unit: ACCOUNT's desktop session (the one that auto-logs in and
                  owns the projectors) lets the service onto its X display, by an autostart file
  --user ACCOUNT  the user unit in ACCOUNT's graphical session (default: the account that ran sudo):
                  config in ~ACCOUNT/.config/twos-and-sevens/, state in ~ACCOUNT/.local/state/twos-and-sevens/
  --uninstall     disable and remove the unit, the command and /opt/twos-and-sevens; keeps the
                  config, the recordings and the user
  --root DIR      install into DIR as if it were / (an image, or the tests): nothing is started and
                  no venv is made there (its paths would point into DIR; run scripts/setup.sh in
                  /opt/twos-and-sevens once booted)
EOF
}

NAME=twos-and-sevens
mode=system account="" session="" uninstall=0 root=""
while (($#)); do
    case "$1" in
        --session) session="${2:?--session needs the desktop account}"; shift ;;
        --user)
            mode=user
            if (($# > 1)) && [[ "$2" != --* ]]; then account="$2"; shift; fi ;;
        --uninstall) uninstall=1 ;;
        --root) root="$(realpath -m "${2:?--root needs a folder}")"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install-service: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" -eq 0 ] || { echo "install-service: run it as root: sudo $0 $*" >&2; exit 1; }
[ -z "$session" ] || [ "$mode" = system ] \
    || { echo "install-service: --session is for the system unit; the user unit runs in the session itself" >&2; exit 2; }

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
opt="/opt/$NAME"                    # where the unit finds the command (as the booted system sees it)
dest="$root$opt"
command_link="$root/usr/local/bin/$NAME"
umask 022

say() { echo "install-service: $*"; }

# Users and groups, read from the root's own files so that --root works on an image too.
user_exists() { grep -q "^$1:" "$root/etc/passwd"; }
group_exists() { grep -q "^$1:" "$root/etc/group"; }
in_group() { grep -qE "^$2:[^:]*:[^:]*:(.*,)?$1(,.*)?$" "$root/etc/group"; }
home_of() { awk -F: -v u="$1" '$1 == u { print $6 }' "$root/etc/passwd"; }
ids_of() { awk -F: -v u="$1" '$1 == u { print $3 ":" $4 }' "$root/etc/passwd"; }  # numeric: the root's, not ours
root_args=()
[ -z "$root" ] || root_args=(--root "$root")

# systemctl talks to the running manager only on a booted system; otherwise it edits the files.
live_systemd() { [ -z "$root" ] && [ -d /run/systemd/system ]; }

if [ "$mode" = system ]; then
    service_user="$NAME"
    config_dir="$root/etc/$NAME"
    unit_source="$source_dir/systemd/$NAME.service"
    unit_dir="$root/etc/systemd/system"
    wanted_by="graphical.target"
    if [ -n "$session" ]; then
        user_exists "$session" || { echo "install-service: no account '$session' on this machine" >&2; exit 2; }
    fi
else
    account="${account:-${SUDO_USER:-}}"
    [ -n "$account" ] && [ "$account" != root ] \
        || { echo "install-service: --user needs the gallery's desktop account: --user ACCOUNT" >&2; exit 2; }
    user_exists "$account" || { echo "install-service: no account '$account' on this machine" >&2; exit 2; }
    service_user="$account"
    home="$(home_of "$account")"
    config_dir="$root$home/.config/$NAME"
    unit_source="$source_dir/systemd/user/$NAME.service"
    unit_dir="$root$home/.config/systemd/user"
    wanted_by="graphical-session.target"
fi
unit="$unit_dir/$NAME.service"
wants_link="$unit_dir/$wanted_by.wants/$NAME.service"
unit_target="${unit#"$root"}"  # the link's target as the booted system sees it
# The system unit's sound and picture: its JACK server's unit, wanted by the main unit while enabled, and
# the autostart file by which the projectors' desktop session lets the service user onto its display.
jack_unit="$unit_dir/$NAME-jack.service"
jack_wants="$unit_dir/$NAME.service.wants/$NAME-jack.service"
jack_env="$config_dir/jack.env"
grant_source="$source_dir/systemd/autostart/$NAME-display.desktop"
grant_of() { echo "$root$(home_of "$1")/.config/autostart/$NAME-display.desktop"; }

# [audio] route in an installation.toml ("sounddevice", the embedded default, when it does not say).
route_of() {
    awk '/^\[/ { section = $0 } section == "[audio]" && /^route *=/ { gsub(/^route *= *"|".*$/, ""); print; found = 1; exit }
         END { if (!found) print "sounddevice" }' "$1"
}

# Which commit is installed, read without writing to the checkout (describe --dirty would refresh its index).
commit_of() {
    local head
    head="$(git -C "$1" rev-parse --short HEAD 2>/dev/null)" || { echo "not a git checkout"; return; }
    [ -z "$(GIT_OPTIONAL_LOCKS=0 git -C "$1" status --porcelain 2>/dev/null)" ] || head="$head with uncommitted changes"
    echo "commit $head"
}

# A folder made for ACCOUNT below its home belongs to it (mkdir -p would leave it root's).
make_dirs_for() {
    local owner="$1" path="$2" missing=()
    while [ ! -d "$path" ]; do missing=("$path" "${missing[@]}"); path="$(dirname "$path")"; done
    for path in "${missing[@]}"; do mkdir -m 0755 "$path"; chown "$owner" "$path"; done
}

uninstall() {
    if [ -e "$unit" ] || [ -L "$wants_link" ]; then
        if live_systemd && [ "$mode" = system ]; then
            systemctl disable --now "$NAME.service" || true
        elif live_systemd; then
            systemctl --user -M "$account@" disable --now "$NAME.service" 2>/dev/null || rm -f "$wants_link"
        else
            rm -f "$wants_link"
        fi
        rm -f "$unit" "$wants_link"
        if live_systemd && [ "$mode" = system ]; then systemctl daemon-reload; fi
        say "removed the unit $unit_target (disabled$(live_systemd && echo ', stopped'))"
    else
        say "no unit at $unit_target: nothing to disable"
    fi
    if [ "$mode" = system ] && { [ -e "$jack_unit" ] || [ -L "$jack_wants" ]; }; then
        if live_systemd; then systemctl disable --now "$NAME-jack.service" || true; fi
        rm -f "$jack_unit" "$jack_wants"
        rmdir "$(dirname "$jack_wants")" 2>/dev/null || true
        if live_systemd; then systemctl daemon-reload; fi
        say "removed the unit ${jack_unit#"$root"} (the service's JACK server)"
    fi
    # The display grant goes with the system unit: each session's copy, unless the technician edited it.
    if [ "$mode" = system ]; then
        for grant in "$root"/home/*/.config/autostart/"$NAME-display.desktop" ${session:+"$(grant_of "$session")"}; do
            [ -e "$grant" ] || continue
            if cmp -s "$grant_source" "$grant"; then
                rm -f "$grant" && say "removed ${grant#"$root"} (the session's grant of its display)"
                rmdir "$(dirname "$grant")" 2>/dev/null || true
            else
                say "kept ${grant#"$root"}: edited by hand; remove it to take the display back"
            fi
        done
    fi
    # /opt stays while the other kind of unit still runs from it, or when it is this very checkout.
    local others=("$root/etc/systemd/system/$NAME.service" "$root"/home/*/.config/systemd/user/"$NAME.service")
    local still=()
    for other in "${others[@]}"; do [ -e "$other" ] && still+=("${other#"$root"}"); done
    if ((${#still[@]})); then
        say "kept $opt: ${still[*]} still runs from it"
    elif [ "$(realpath -m "$dest")" = "$source_dir" ]; then
        say "kept $opt: it is this checkout"
    elif [ -d "$dest" ]; then
        rm -rf "$dest"
        say "removed $opt"
    fi
    if [ -L "$command_link" ] && [ ! -e "$dest" ]; then rm -f "$command_link"; say "removed /usr/local/bin/$NAME"; fi
    say "kept ${config_dir#"$root"}/installation.toml$([ "$mode" = system ] && echo ' and jack.env') and the recordings; to remove them as well:"
    if [ "$mode" = system ]; then
        say "  sudo rm -r /etc/$NAME /var/lib/$NAME && sudo userdel $NAME"
    else
        say "  rm -r ~$account/.config/$NAME ~$account/.local/state/$NAME"
    fi
}

if ((uninstall)); then uninstall; exit 0; fi

# 1. Who runs it: the service's own user (system unit), or the desktop account (user unit); the audio
# and video groups open the sound card's and the GPU's device files.
for group in audio video; do
    group_exists "$group" || { groupadd "${root_args[@]}" --system "$group"; say "created group $group"; }
done
if [ "$mode" = system ] && ! user_exists "$service_user"; then
    useradd "${root_args[@]}" --system --user-group --groups audio,video --home-dir "/var/lib/$NAME" \
        --no-create-home --shell /usr/sbin/nologin --comment "Twos and Sevens installation" "$service_user"
    say "created user $service_user (groups audio, video)"
else
    for group in audio video; do
        in_group "$service_user" "$group" \
            || { usermod "${root_args[@]}" --append --groups "$group" "$service_user"; say "added $service_user to $group"; }
    done
    say "user $service_user: in audio and video"
fi

# 2. The checkout in /opt, root's and readable by all: the service only reads and runs it. A copy
# when this checkout is elsewhere (.git included, so `git pull` works there); the venv is kept.
if [ "$(realpath -m "$dest")" = "$source_dir" ]; then
    say "checkout: $opt is this checkout, used in place"
else
    excludes=(--exclude=./.venv --exclude=./var --exclude=__pycache__ --exclude=./.pytest_cache
              --exclude=./.mypy_cache --exclude=./.ruff_cache --exclude='*.egg-info')
    fingerprint="$(cd "$source_dir" && tar "${excludes[@]}" --sort=name --owner=0 --group=0 --numeric-owner \
        --mtime=@0 -cf - . | sha256sum | cut -d' ' -f1)"
    stamp="$dest/.venv/.installed-from"
    if [ "$(cat "$stamp" 2>/dev/null)" = "$fingerprint" ]; then
        say "checkout: $opt unchanged"
    else
        mkdir -p "$dest"
        find "$dest" -mindepth 1 -maxdepth 1 ! -name .venv -exec rm -rf {} +  # what the checkout no longer has
        (cd "$source_dir" && tar "${excludes[@]}" -cf - .) | tar -C "$dest" --no-same-owner -xf -
        chmod -R u+rwX,go+rX,go-w "$dest"
        mkdir -p "$dest/.venv" && echo "$fingerprint" > "$stamp"
        say "checkout: copied $source_dir to $opt ($(commit_of "$source_dir"))"
    fi
fi

# 3. The venv, made by root with the README's setup: the service user never writes to /opt.
if [ -n "$root" ]; then
    say "venv: not made under --root; run $opt/scripts/setup.sh there once booted"
else
    "$dest/scripts/setup.sh"
    chmod -R go+rX,go-w "$dest/.venv"
    say "venv: $opt/.venv ready"
fi
mkdir -p "$(dirname "$command_link")"
if [ "$(readlink "$command_link" 2>/dev/null)" != "$opt/.venv/bin/$NAME" ]; then
    ln -sfn "$opt/.venv/bin/$NAME" "$command_link"
    say "command: /usr/local/bin/$NAME → $opt/.venv/bin/$NAME"
fi

# 4. The technician's config: the shipped file, once; an edited one is never touched. Readable by the
# service, not by everyone: [http] token may be in it.
service_ids="$(ids_of "$service_user")"
config="$config_dir/installation.toml"
if [ "$mode" = system ]; then
    files_owner="0:0" config_owner="0:${service_ids#*:}"
    mkdir -p "$config_dir" "$unit_dir"
    state_dir="$root/var/lib/$NAME"
    if [ ! -d "$state_dir" ]; then  # systemd makes it too (StateDirectory=); made now so MNIST can go in first
        mkdir -p "$state_dir" && chown "$service_ids" "$state_dir"
        say "created ${state_dir#"$root"} (recordings, MNIST, history)"
    fi
else
    files_owner="$service_ids" config_owner="$service_ids"
    make_dirs_for "$service_ids" "$config_dir"
fi
if [ -e "$config" ]; then
    say "config: ${config#"$root"} kept as it is (yours; compare with $opt/installation.toml after an update)"
elif [ "$mode" = system ]; then
    # The system unit plays into its own JACK server (below): the shipped file with [audio] route = "jack".
    sed '/^\[audio\]/,/^\[/ s/^route = .*/route = "jack"/' "$source_dir/installation.toml" \
        | install -m 0640 -o "${config_owner%:*}" -g "${config_owner#*:}" /dev/stdin "$config"
    say "config: wrote ${config#"$root"} from the shipped installation.toml, with [audio] route = \"jack\""
else
    install -m 0640 -o "${config_owner%:*}" -g "${config_owner#*:}" "$source_dir/installation.toml" "$config"
    say "config: wrote ${config#"$root"} from the shipped installation.toml"
fi

# 5. The unit, installed and enabled (started at the next boot, or login for the user unit).
[ "$mode" = system ] || make_dirs_for "$files_owner" "$unit_dir/$wanted_by.wants"
if cmp -s "$unit_source" "$unit"; then
    say "unit: ${unit#"$root"} unchanged"
else
    verb="$([ -e "$unit" ] && echo updated || echo installed)"
    install -m 0644 -o "${files_owner%:*}" -g "${files_owner#*:}" "$unit_source" "$unit"
    say "unit: $verb ${unit#"$root"}"
fi
if [ "$(readlink "$wants_link" 2>/dev/null)" = "$unit_target" ]; then
    say "unit: enabled (${wants_link#"$root"})"
elif [ "$mode" = system ]; then
    if live_systemd; then systemctl daemon-reload; fi
    systemctl "${root_args[@]}" enable "$NAME.service"
    say "unit: enabled for $wanted_by"
else
    # What `systemctl --user enable` makes; done here because ACCOUNT's manager may not be running.
    ln -sfn "$unit_target" "$wants_link" && chown -h "$files_owner" "$wants_link"
    say "unit: enabled for $wanted_by (${wants_link#"$root"})"
fi

# 6. The system unit's sound: its own JACK server, as the same user (a JACK server is its user's alone),
# on the card that jack.env names. Enabled while the config's route is "jack", so that it never holds
# the card from a sounddevice route; the next run follows a changed route.
if [ "$mode" = system ]; then
    if cmp -s "$source_dir/systemd/$NAME-jack.service" "$jack_unit"; then
        say "sound: ${jack_unit#"$root"} unchanged"
    else
        verb="$([ -e "$jack_unit" ] && echo updated || echo installed)"
        install -m 0644 -o 0 -g 0 "$source_dir/systemd/$NAME-jack.service" "$jack_unit"
        if live_systemd; then systemctl daemon-reload; fi
        say "sound: $verb ${jack_unit#"$root"}"
    fi
    if [ -e "$jack_env" ]; then
        say "sound: ${jack_env#"$root"} kept as it is (yours)"
    else
        install -m 0644 -o 0 -g 0 "$source_dir/systemd/jack.env" "$jack_env"
        say "sound: wrote ${jack_env#"$root"} (card hw:0, 48000 Hz, 1024 frames: check it with aplay -l)"
    fi
    route="$(route_of "$config")"
    if [ "$route" = jack ] && [ "$(readlink "$jack_wants" 2>/dev/null)" = "${jack_unit#"$root"}" ]; then
        say "sound: $NAME-jack enabled (route = \"jack\"): it starts before $NAME"
    elif [ "$route" = jack ]; then
        systemctl "${root_args[@]}" enable "$NAME-jack.service"
        say "sound: enabled $NAME-jack (route = \"jack\"): it starts before $NAME"
    elif [ -L "$jack_wants" ]; then
        systemctl "${root_args[@]}" disable "$NAME-jack.service"
        say "sound: disabled $NAME-jack: installation.toml's route is \"$route\", which does not use it"
    else
        say "sound: $NAME-jack not enabled: installation.toml's route is \"$route\""
    fi
fi

# 7. The picture, for the system unit: the desktop session that owns the projectors' display lets the
# service user onto it at each login (an XDG autostart file running xhost). Never overwritten once there.
if [ "$mode" = system ] && [ -n "$session" ]; then
    grant="$(grant_of "$session")"
    if cmp -s "$grant_source" "$grant"; then
        say "display: ${grant#"$root"} unchanged"
    elif [ -e "$grant" ]; then
        say "display: ${grant#"$root"} kept as it is (yours)"
    else
        make_dirs_for "$(ids_of "$session")" "$(dirname "$grant")"
        install -m 0644 -o "$(ids_of "$session" | cut -d: -f1)" -g "$(ids_of "$session" | cut -d: -f2)" \
            "$grant_source" "$grant"
        say "display: wrote ${grant#"$root"}: $session's session lets $NAME onto its display at each login"
    fi
    if [ -z "$root" ] && ! command -v xhost >/dev/null; then
        say "display: xhost is missing, the grant cannot run: sudo apt-get install x11-xserver-utils"
    fi
fi

# 8. What to check next.
if [ "$mode" = system ]; then
    cat <<EOF
install-service: done. Next:
  1. MNIST: with a network it is fetched at the first start; offline, copy the four files into
     /var/lib/$NAME/var/mnist/MNIST/raw/ (owned by $NAME).
  2. Edit /etc/$NAME/installation.toml, then: sudo $NAME check-config /etc/$NAME/installation.toml
  3. Sound: the card in /etc/$NAME/jack.env (aplay -l lists them); then
     sudo systemctl start $NAME-jack && sudo -u $NAME jack_lsp    (system:playback_1, 2, …)
  4. Picture: $( [ -n "$session" ] && echo "log $session in again (or reboot): its session grants the display" \
                || echo "run this again with --session ACCOUNT, the desktop account that owns the projectors" ); then
     sudo -u $NAME env DISPLAY=:0 $NAME projector-test --config /etc/$NAME/installation.toml
  5. sudo systemctl start $NAME     (it starts by itself at every boot from now on)
  6. journalctl -u $NAME -f -o cat   and   sudo $NAME status
  (docs/technician.md, systemd: "Sound and picture for the service")
EOF
else
    cat <<EOF
install-service: done. Next (as $account):
  1. MNIST: fetched at the first start with a network; offline, copy the four files into
     ~/.local/state/$NAME/var/mnist/MNIST/raw/
  2. Edit ~/.config/$NAME/installation.toml, then: $NAME check-config
  3. Log in to the desktop session (autologin): the unit starts with it; or now:
     systemctl --user daemon-reload && systemctl --user start $NAME
  4. journalctl --user -u $NAME -f -o cat   and   $NAME status
EOF
fi
