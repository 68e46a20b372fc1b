# A private system bus for daemon tests: a real dbus-daemon with the project's own bus
# policy (data/org.treectl.Treectl1.conf) and an activation file that starts the built
# treectld for $SYSROOT. Source after libtest.sh; call start_system_bus after the sysroot
# exists.

# start_system_bus [IDLE_EXIT_SECONDS] [START_TIMEOUT_SECONDS]
start_system_bus() {
  local idle=${1:-60} start_timeout=${2:-30}
  local busdir="$test_tmpdir/bus"
  mkdir -p "$busdir/services"
  # Unprivileged test clients must reach the socket.
  chmod 755 "$test_tmpdir" "$busdir"
  cat > "$test_tmpdir/treectld.conf" <<CONF
[Daemon]
IdleExitTimeout=$idle
StartTimeout=$start_timeout
CONF
  cat > "$busdir/services/org.treectl.Treectl1.service" <<SVC
[D-BUS Service]
Name=org.treectl.Treectl1
Exec=$TREECTL_DAEMON --sysroot=$SYSROOT --config=$test_tmpdir/treectld.conf
User=root
SVC
  cat > "$busdir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$busdir/socket</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$busdir/services</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>$TREECTL_SRCDIR/data/org.treectl.Treectl1.conf</include>
</busconfig>
CONF
  dbus-daemon --config-file="$busdir/bus.conf" --nofork --nopidfile \
    --print-address=3 3>"$busdir/address" 2>>"$test_tmpdir/dbus-daemon.log" &
  _bg_pids+=($!)
  wait_for 10 test -s "$busdir/address"
  export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$busdir/socket"
}

# Whether treectld currently owns its name on the private bus.
daemon_running() {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.treectl.Treectl1 | grep -q 'boolean true'
}

# Run a command as an unprivileged user (nobody).
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/ "$@"; }
